package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// nodeScript runs a script of an npm package under testdata with env, and
// returns its output lines.
func nodeScript(t *testing.T, pkg, script string, env ...string) []string {
	t.Helper()
	dir := npmPackage(t, pkg)
	cmd := exec.Command("node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node %s: %v\n%s%s", script, err, out, stderr)
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// TestGraphQLOverHTTPAudit runs graphql-http's server audit (the GraphQL
// over HTTP specification's MUST and SHOULD rules) anonymously and with a
// token: no failure and no warning.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		for _, token := range []string{"", apitest.Token(t, "rita")} {
			lines := nodeScript(t, "graphql-http-audit", "audit.mjs", "URL="+srv.URL+"/graphql", "TOKEN="+token)
			if len(lines) < 20 {
				t.Fatalf("the audit ran %d checks: %q", len(lines), lines)
			}
			for _, l := range lines {
				var a struct{ ID, Name, Status, Reason string }
				if err := json.Unmarshal([]byte(l), &a); err != nil {
					t.Fatalf("audit line %q: %v", l, err)
				}
				if a.Status != "ok" {
					t.Errorf("token=%v: %s %s: %s (%s)", token != "", a.Status, a.ID, a.Name, a.Reason)
				}
			}
		}
	})
}

// TestDeferIsDeliveredIncrementallyOrInPlace: a client that reads
// multipart/mixed (meros, as Relay and urql use it) gets the initial
// result and then the deferred fragment; a client that takes one JSON
// response gets everything at once, as if there were no @defer.
func TestDeferIsDeliveredIncrementallyOrInPlace(t *testing.T) {
	const query = `query ViewerLater { viewer { name ... @defer(label: "contact") { email roles } userId } }`
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		rita := srv.Client(t, "rita")
		type viewer struct {
			Name, Email, UserID string
			Roles               []string
		}
		whole := run[viewer](t, rita, query, nil, "viewer")
		if whole.Email == "" || len(whole.Roles) == 0 || whole.Name == "" {
			t.Fatalf("one JSON response lacks the deferred fields: %+v", whole)
		}

		parts := nodeScript(t, "graphql-http-audit", "defer.mjs",
			"URL="+srv.URL+"/graphql", "TOKEN="+rita.Token, "QUERY="+query)
		if len(parts) != 2 {
			t.Fatalf("multipart/mixed: %d parts, want 2: %q", len(parts), parts)
		}
		var initial struct {
			Data    struct{ Viewer viewer }
			HasNext bool
		}
		var later struct {
			Incremental []struct {
				Data  viewer
				Path  []any
				Label string
			}
			HasNext bool
		}
		if err := json.Unmarshal([]byte(parts[0]), &initial); err != nil || !initial.HasNext || initial.Data.Viewer.Name != whole.Name {
			t.Errorf("initial part %s (%v)", parts[0], err)
		}
		if err := json.Unmarshal([]byte(parts[1]), &later); err != nil || later.HasNext || len(later.Incremental) != 1 {
			t.Fatalf("deferred part %s (%v)", parts[1], err)
		}
		got := later.Incremental[0]
		if got.Label != "contact" || len(got.Path) != 1 || got.Path[0] != "viewer" || got.Data.Email != whole.Email || len(got.Data.Roles) != len(whole.Roles) {
			t.Errorf("deferred part %s, want %+v", parts[1], whole)
		}
	})
}

func TestHTTPStatusesFollowGraphQLOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		token := apitest.Token(t, "ada")
		send := func(method, path, contentType, accept, body string) (*http.Response, map[string]json.RawMessage) {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out map[string]json.RawMessage
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%s %s: not JSON (HTTP %d): %s", method, path, resp.StatusCode, raw)
			}
			return resp, out
		}
		const invalid = `{"query":"{ claims { nodes { noSuchField } } }"}`
		for _, tc := range []struct {
			name, method, path, contentType, accept, body string
			status                                        int
			media                                         string
		}{
			{"validation error, application/json", "POST", "/graphql", "application/json", "application/json", invalid, 200, "application/json"},
			{"validation error, no Accept", "POST", "/graphql", "application/json", "", invalid, 200, "application/json"},
			{"validation error, graphql-response+json", "POST", "/graphql", "application/json", "application/graphql-response+json", invalid, 400, "application/graphql-response+json"},
			{"parse error, graphql-response+json", "POST", "/graphql", "application/json", "application/graphql-response+json", `{"query":"{"}`, 400, "application/graphql-response+json"},
			{"both accepted, the first wins", "POST", "/graphql", "application/json", "application/graphql-response+json, application/json;q=0.9", invalid, 400, "application/graphql-response+json"},
			{"nothing acceptable", "POST", "/graphql", "application/json", "text/html", invalid, 406, "application/json"},
			{"unsupported body type", "POST", "/graphql", "text/plain", "application/json", invalid, 415, "application/json"},
			{"mutation over GET", "GET", "/graphql?query=" + url.QueryEscape(`mutation { enrollMpn(input: {mpnId: "x"}) { mpn { id } } }`), "", "application/json", "", 405, "application/json"},
		} {
			resp, body := send(tc.method, tc.path, tc.contentType, tc.accept, tc.body)
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.media) {
				t.Errorf("%s: HTTP %d %s, want %d %s", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.media)
			}
			if _, ok := body["data"]; ok {
				t.Errorf("%s: a request error has a data entry", tc.name)
			}
			if len(body["errors"]) == 0 || !strings.Contains(string(body["errors"]), `"code"`) {
				t.Errorf("%s: errors without a code: %s", tc.name, body["errors"])
			}
		}
		if resp, _ := send("GET", "/graphql?query=mutation%7B__typename%7D", "", "", ""); resp.Header.Get("Allow") != "POST" {
			t.Errorf("405 without Allow: POST")
		}

		// An undecodable body is described, never echoed back.
		const secret = "s3cr3t-password-in-a-broken-body"
		for _, body := range []string{`{"query": "{ viewer { name } }", "password": "` + secret + `"`, `{"query": ` + secret + `}`, `["` + secret + `"]`} {
			resp, out := send("POST", "/graphql", "application/json", "application/json", body)
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(out["errors"]), secret) {
				t.Errorf("broken body: HTTP %d, errors %s", resp.StatusCode, out["errors"])
			}
		}
	})
}
