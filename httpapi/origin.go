package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rs/cors"

	"cpor/apperr"
)

// originPolicy is the one rule for browser origins, over HTTP and
// websockets alike: the API's own origin and the configured ones may call
// it; a request from any other origin is refused with 403 before anything
// runs. Allowed cross-origin requests get CORS headers.
type originPolicy struct {
	allowed []string
	any     bool
	cors    *cors.Cors
}

func newOriginPolicy(allowed []string) *originPolicy {
	p := &originPolicy{allowed: allowed, any: slices.Contains(allowed, "*")}
	p.cors = cors.New(cors.Options{
		// rs/cors allows every origin when given none; every origin that
		// reaches it has passed allows().
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-ID", "Accept", "traceparent", "tracestate"},
		ExposedHeaders:   []string{"X-Request-ID", "Retry-After"},
		AllowCredentials: false,
		MaxAge:           600,
	})
	return p
}

// allows reports whether a request from origin to host may be served.
func (p *originPolicy) allows(origin, host string) bool {
	if origin == "" || p.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	return slices.ContainsFunc(p.allowed, func(a string) bool { return strings.EqualFold(a, u.Scheme+"://"+u.Host) })
}

func (p *originPolicy) handler(next http.Handler) http.Handler {
	withCORS := p.cors.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allows(r.Header.Get("Origin"), r.Host) {
			writeErrorBody(w, http.StatusForbidden,
				"Requests from this origin are not allowed; the service's operator lists the allowed ones.", apperr.Forbidden)
			return
		}
		withCORS.ServeHTTP(w, r)
	})
}
