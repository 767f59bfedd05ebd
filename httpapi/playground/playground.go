// Package playground serves GraphiQL, with its explorer plugin, from
// assets embedded in the binary: the page loads with no network beyond the
// service. The assets come from npm through scripts/refresh-assets,
// which checks each package against the registry's integrity hash and
// writes assets/SHA256SUMS; the page names each file with its Subresource
// Integrity hash. In development a picker of demo users fills the
// Authorization header for HTTP and the websocket alike.
package playground

import (
	"crypto/rand"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"path"
)

//go:embed assets/*.js assets/*.css
var assets embed.FS

// assetsDir holds the checksums too, which are not served.
//
//go:embed assets/SHA256SUMS assets/PACKAGES
var assetsDir embed.FS

// AssetPath is where the page's scripts and styles are served.
const AssetPath = "/playground/assets/"

// User is a demo user the page offers to sign in as.
type User struct {
	Handle, About, Token string
}

// Config is what the page needs.
type Config struct {
	Title    string
	Endpoint string // the GraphQL path, such as /graphql
	// Users, when any, are offered in a picker (development only: their
	// tokens are in the page).
	Users []User
}

// Handler serves the page at / and its assets under AssetPath.
func Handler(cfg Config) http.Handler {
	integrity := map[string]string{}
	names, _ := fs.Glob(assets, "assets/*")
	for _, name := range names {
		b, _ := assets.ReadFile(name)
		sum := sha512.Sum384(b)
		integrity[path.Base(name)] = "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	sub, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix(AssetPath, http.FileServer(http.FS(sub)))
	mux := http.NewServeMux()
	mux.Handle("GET "+AssetPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The files change only with the binary; the page names them with
		// their integrity hash, so a stale copy cannot run.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		nonce := newNonce()
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; "+
			"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "+
			"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		_ = page.Execute(w, pageData{Config: cfg, Nonce: nonce, Assets: AssetPath, Integrity: integrity})
	})
	return mux
}

type pageData struct {
	Config
	Nonce     string
	Assets    string
	Integrity map[string]string
}

func newNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var page = template.Must(template.New("playground").Parse(pageHTML))
