package web

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"cpor/testkit/vendored"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestEveryAppAddressServesThePage: the app's own addresses (a deep link
// from an e-mail included) serve the page, which the app routes in the
// browser; /app redirects to /app/.
func TestEveryAppAddressServesThePage(t *testing.T) {
	h := Handler(Config{Endpoint: "/graphql"})
	for _, path := range []string{"/app/", "/app/claims/Q2xhaW06eA", "/app/claims/new", "/app/claims/Q2xhaW06eA/edit"} {
		w := get(t, h, path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `src="/app/static/js/main.js"`) {
			t.Errorf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
	}
	if w := get(t, h, "/app"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/app/" {
		t.Errorf("GET /app: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

// TestPageIsLockedDown: the page runs only the binary's own scripts,
// cannot be framed, and never hands a signed download link on in a Referer.
func TestPageIsLockedDown(t *testing.T) {
	w := get(t, Handler(Config{Endpoint: "/graphql"}), "/app/")
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "connect-src 'self' ws://example.com wss://example.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy allows unsafe sources: %q", csp)
	}
	for header, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
}

// TestConfigReachesThePageAsData: the demo users (and anything in them)
// reach the page as JSON data, never as markup or script.
func TestConfigReachesThePageAsData(t *testing.T) {
	hostile := `Contoso </script><script>alert(1)</script> & "partners"`
	cfg := Config{Endpoint: "/graphql", Playground: "/", Users: []User{{Handle: "ada", About: hostile, Token: "tok.en.sig"}}}
	body := get(t, Handler(cfg), "/app/").Body.String()
	if strings.Contains(body, "<script>alert(1)") {
		t.Fatalf("the page carries the about text as markup:\n%s", body)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="app-config">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no config in the page:\n%s", body)
	}
	var got Config
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatalf("config %q: %v", m[1], err)
	}
	if got.Endpoint != "/graphql" || got.Playground != "/" || len(got.Users) != 1 || got.Users[0] != cfg.Users[0] {
		t.Errorf("config %+v, want %+v", got, cfg)
	}

	// Without demo users (production), the page offers a pasted token only.
	m = regexp.MustCompile(`(?s)id="app-config">(.*?)</script>`).FindStringSubmatch(get(t, Handler(Config{Endpoint: "/graphql"}), "/app/").Body.String())
	if m == nil || !strings.Contains(m[1], `"users":[]`) {
		t.Errorf("config without users: %v", m)
	}
}

// TestStaticFilesRevalidate: files are served with their content type
// and an ETag, so a browser asks again cheaply (304) and never runs a
// stale copy after an upgrade; what is not there is 404.
func TestStaticFilesRevalidate(t *testing.T) {
	h := Handler(Config{Endpoint: "/graphql"})
	w := get(t, h, "/app/static/js/main.js")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("main.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("main.js: ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	if w := get(t, h, "/app/static/js/main.js", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("main.js with its ETag: %d, want 304", w.Code)
	}
	for _, path := range []string{"/app/static/nothing.js", "/app/static/../web.go", "/app/static/vendor/SHA256SUMS/x"} {
		// Not found, or (for a path with ..) redirected to its clean form.
		if w := get(t, h, path); w.Code == http.StatusOK || strings.Contains(w.Body.String(), "package web") {
			t.Errorf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
	}
}

// TestVendoredFilesMatchTheirChecksums: the graphql-ws client is what
// scripts/refresh-assets fetched and checked, byte for byte.
func TestVendoredFilesMatchTheirChecksums(t *testing.T) {
	sums, err := fs.ReadFile(static, "static/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	vendored.Verify(t, static, "static/vendor", sums, "SHA256SUMS", "PACKAGES")
}
