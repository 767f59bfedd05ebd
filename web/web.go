// Package web serves the reference web app at /app: a single-page client
// of the GraphQL API written as plain ES modules, with no build step, that
// shows what a browser needs from the service (CORS-free same-origin
// calls, uploads as GraphQL multipart requests, signed download links and
// live updates over graphql-ws). Its one npm dependency, the graphql-ws
// client, is vendored under static/vendor by scripts/refresh-assets.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Path is where the app lives; every path under it that is not a static
// file is one of the app's own pages (/app/claims/<id>, say), which the
// app routes in the browser.
const Path = "/app/"

// Root is Path without its slash, which redirects to Path.
const Root = "/app"

const staticPath = Path + "static/"

// User is a demo user the sign-in page offers.
type User struct {
	Handle string `json:"handle"`
	About  string `json:"about"`
	Token  string `json:"token"`
}

// Config is what the page is told when it loads.
type Config struct {
	// Endpoint is the GraphQL path, such as /graphql.
	Endpoint string `json:"endpoint"`
	// Playground is the playground's path, or empty when it is off.
	Playground string `json:"playground,omitempty"`
	// Users, when any, are offered at sign-in (development only: their
	// tokens are in the page).
	Users []User `json:"users"`
}

// Handler serves the app's pages and files under Path.
func Handler(cfg Config) http.Handler {
	if cfg.Users == nil {
		cfg.Users = []User{}
	}
	files := loadFiles()
	mux := http.NewServeMux()
	mux.Handle("GET "+Root, http.RedirectHandler(Path, http.StatusMovedPermanently))
	mux.HandleFunc("GET "+staticPath+"{file...}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.serve(w, r)
	})
	mux.HandleFunc("GET "+Path+"{page...}", func(w http.ResponseWriter, r *http.Request) {
		servePage(w, r, cfg)
	})
	return mux
}

// file is an embedded file with its validator: the files change only
// with the binary, so browsers revalidate (no-cache) and get 304s.
type file struct {
	name    string
	content []byte
	etag    string
}

func (f file) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.content))
}

func loadFiles() map[string]file {
	out := map[string]file{}
	_ = fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel := strings.TrimPrefix(name, "static/")
		out[rel] = file{name: path.Base(name), content: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	return out
}

func servePage(w http.ResponseWriter, r *http.Request, cfg Config) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// Signed download links are capabilities: never hand them on in a
	// Referer.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; connect-src 'self' "+socketOrigins(r)+"; frame-ancestors 'none'; base-uri 'none'; "+
		"form-action 'none'; object-src 'none'")
	_ = page.Execute(w, pageData{Config: cfg, Static: staticPath})
}

// socketOrigins names the service's own websocket origin, which older
// browsers do not count as 'self'.
func socketOrigins(r *http.Request) string {
	host := r.Host
	if host == "" || strings.ContainsAny(host, " ;'\"") {
		return ""
	}
	return "ws://" + host + " wss://" + host
}

type pageData struct {
	Config Config
	Static string
}

var page = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CPOR claims</title>
<link rel="stylesheet" href="{{.Static}}app.css">
<script type="application/json" id="app-config">{{.Config}}</script>
<script src="{{.Static}}vendor/graphql-ws.min.js" defer></script>
<script type="module" src="{{.Static}}js/main.js"></script>
</head>
<body>
<header id="bar"></header>
<main id="view"><p class="muted">Loading…</p></main>
</body>
</html>
`))
