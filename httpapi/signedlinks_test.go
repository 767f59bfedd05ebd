package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

const downloadURLQuery = `query($id: ID!) { node(id: $id) { ... on ProofOfExecution { downloadUrl } } }`

// linkFor is the downloadUrl the client is given for the document.
func linkFor(t *testing.T, c *apitest.Client, docID string) string {
	t.Helper()
	var out struct{ Node struct{ DownloadURL string } }
	c.MustDo(t, downloadURLQuery, map[string]any{"id": docID}, &out)
	return out.Node.DownloadURL
}

// plainGet fetches a path of the server as a browser's <a href> does:
// without an Authorization header.
func plainGet(t *testing.T, srv *apitest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// wantLinkRefused: the link is refused with 401 and a GraphQL-shaped
// UNAUTHENTICATED error, kept from caches.
func wantLinkRefused(t *testing.T, srv *apitest.Server, what, path string) {
	t.Helper()
	resp, body := plainGet(t, srv, path)
	var e struct {
		Errors []apitest.GQLError
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusUnauthorized || len(e.Errors) != 1 || e.Errors[0].Code() != "UNAUTHENTICATED" {
		t.Errorf("%s: HTTP %d %s, want 401 UNAUTHENTICATED", what, resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("%s: Cache-Control %q", what, cc)
	}
}

// withParam is the link with one query parameter replaced.
func withParam(t *testing.T, link, key, value string) string {
	t.Helper()
	path, raw, _ := strings.Cut(link, "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q.Set(key, value)
	return path + "?" + q.Encode()
}

func param(t *testing.T, link, key string) string {
	t.Helper()
	_, raw, _ := strings.Cut(link, "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q.Get(key)
}

// TestSignedDownloadLinks: downloadUrl is a link signed for the viewer that
// downloads the document without the bearer header, for 5 minutes, for
// that document only, and refuses any change; the bearer path still works.
func TestSignedDownloadLinks(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "fiona")
		claim := gid(claimWithStatus(t, w, contoso, models.Approved))
		doc := attach(t, ada, claim, "signed.pdf", testkit.PDF).ProofOfExecution
		other := attach(t, ada, claim, "other.pdf", append(append([]byte(nil), testkit.PDF...), '\n')).ProofOfExecution

		link := linkFor(t, ada, doc.ID)
		bare, _, _ := strings.Cut(link, "?")
		if bare != "/documents/"+doc.ID {
			t.Fatalf("downloadUrl %q is not a link to /documents/%s", link, doc.ID)
		}
		for _, key := range []string{"expires", "user", "sig"} {
			if param(t, link, key) == "" {
				t.Fatalf("downloadUrl %q lacks %s", link, key)
			}
		}

		// Without the header: the bytes, kept from shared caches and Referers.
		resp, body := plainGet(t, srv, link)
		if resp.StatusCode != http.StatusOK || string(body) != string(testkit.PDF) {
			t.Fatalf("signed download: HTTP %d %q", resp.StatusCode, body)
		}
		if cc, rp := resp.Header.Get("Cache-Control"), resp.Header.Get("Referrer-Policy"); cc != "private, no-store" || rp != "no-referrer" {
			t.Errorf("signed download: Cache-Control %q, Referrer-Policy %q", cc, rp)
		}
		if resp.Header.Get("Content-Disposition") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("signed download lost the attachment headers: %v", resp.Header)
		}

		// Tampered, for another document, or malformed: refused.
		ritaLink := linkFor(t, rita, doc.ID)
		if param(t, ritaLink, "user") == param(t, link, "user") {
			t.Fatal("ada's and rita's links carry the same viewer")
		}
		sig := []byte(param(t, link, "sig"))
		sig[0] ^= 'A' ^ 'B'
		for what, bad := range map[string]string{
			"flipped sig":               withParam(t, link, "sig", string(sig)),
			"later expiry":              withParam(t, link, "expires", param(t, link, "expires")+"0"),
			"rita's viewer, ada's sig":  withParam(t, link, "user", param(t, ritaLink, "user")),
			"no sig":                    bare + "?expires=" + param(t, link, "expires") + "&user=" + param(t, link, "user"),
			"garbage":                   bare + "?sig=%%%&expires=&user=",
			"another document, ada sig": "/documents/" + other.ID + "?" + strings.SplitN(link, "?", 2)[1],
		} {
			wantLinkRefused(t, srv, what, bad)
		}
		if resp, _ := plainGet(t, srv, withParam(t, link, "sig", string(sig))); resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Error("a refused link's response lacks Referrer-Policy: no-referrer")
		}

		// Another organisation gets no link to ada's document, and with its
		// own token ada's link does not lend it her access.
		if r := fiona.Do(t, downloadURLQuery, map[string]any{"id": doc.ID}); len(r.Errors) == 0 && strings.Contains(string(r.Data), "sig=") {
			t.Errorf("fiona was given a link to ada's document: %s", r.Data)
		}
		if resp, body := download(t, fiona, link); resp.StatusCode != http.StatusNotFound {
			t.Errorf("fiona with her token and ada's link: HTTP %d %s", resp.StatusCode, body)
		}

		// The bearer path is unchanged; without either credential, 401.
		resp, body = download(t, ada, bare)
		if resp.StatusCode != http.StatusOK || string(body) != string(testkit.PDF) || resp.Header.Get("Cache-Control") != "private, no-cache" {
			t.Errorf("bearer download: HTTP %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if resp, body := plainGet(t, srv, bare); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous download without a link: HTTP %d %s", resp.StatusCode, body)
		}

		// The link lives 5 minutes.
		srv.LinkClock.Advance(5*time.Minute - time.Second)
		if resp, body := plainGet(t, srv, link); resp.StatusCode != http.StatusOK {
			t.Errorf("a second before expiry: HTTP %d %s", resp.StatusCode, body)
		}
		srv.LinkClock.Advance(time.Second)
		wantLinkRefused(t, srv, "expired link", link)
		if resp, body := plainGet(t, srv, linkFor(t, ada, doc.ID)); resp.StatusCode != http.StatusOK {
			t.Errorf("a fresh link after expiry: HTTP %d %s", resp.StatusCode, body)
		}
	})
}
