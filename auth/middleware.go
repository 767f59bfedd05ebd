package auth

import (
	"encoding/json"
	"net/http"
	"strings"

	"cpor/apperr"
)

// BearerToken extracts the token of an "Authorization: Bearer …" header
// value; ok is false when there is none.
func BearerToken(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Middleware verifies the bearer token of each request and puts the identity
// in its context. A request without a token passes on anonymous (the API
// answers UNAUTHENTICATED where it needs a caller); a bad token is refused
// here with 401 and a GraphQL-shaped error body.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := BearerToken(header)
		if !ok {
			writeUnauthenticated(w, apperr.Unauthenticatedf("Use the Bearer scheme: Authorization: Bearer <token>."))
			return
		}
		id, err := v.Verify(token)
		if err != nil {
			writeUnauthenticated(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

func writeUnauthenticated(w http.ResponseWriter, err error) {
	msg := "The token could not be verified."
	if list, ok := apperr.All(err); ok {
		msg = list[0].Message
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{
			"message":    msg,
			"extensions": map[string]any{"code": apperr.Unauthenticated},
		}},
	})
}
