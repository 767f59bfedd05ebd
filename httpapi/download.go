package httpapi

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"cpor/apperr"
	"cpor/auth"
	"cpor/claims"
	"cpor/downloads"
	"cpor/relay"
)

// downloadHandler serves a proof-of-execution file to those who may read its
// claim, as an attachment that browsers never render inline.
//
// The caller is the bearer token's when the request sends one, exactly as
// before signed links (a link in its query string is then ignored, so a
// link does not lend its viewer's access to another signed-in caller).
// Without the header, a signed link's parameters (see package downloads)
// name the caller: the viewer the link was signed for; a malformed,
// tampered or expired link, or one for another document, is refused with
// 401 UNAUTHENTICATED. Either way OpenDocument decides whether that caller
// may read the document. A response to a URL carrying a link is kept from
// shared caches and from the Referer of whatever the file links to.
func downloadHandler(svc *claims.Service, links *downloads.Signer, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := relay.ParseUUID(r.PathValue("id"), relay.TypeDocument, "id")
		if err != nil {
			writeError(w, log, r, err)
			return
		}
		ctx := r.Context()
		signed := downloads.Present(r.URL.Query())
		h := w.Header()
		if signed {
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "private, no-store")
		}
		if _, err := auth.FromContext(ctx); err != nil && signed {
			viewer, err := links.Verify(id, r.URL.Query())
			if err != nil {
				writeError(w, log, r, err)
				return
			}
			ctx = auth.WithIdentity(ctx, viewer)
		}
		doc, content, err := svc.OpenDocument(ctx, id)
		if err != nil {
			writeError(w, log, r, err)
			return
		}
		etag := `"` + doc.SHA256 + `"`
		h.Set("ETag", etag)
		if !signed {
			h.Set("Cache-Control", "private, no-cache")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", doc.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(content)))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.FileName}))
		h.Set("Digest", "sha-256="+doc.SHA256)
		_, _ = w.Write(content)
	})
}

// writeError answers a non-GraphQL endpoint with the status the error's
// code implies and a GraphQL-shaped error body.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	code := apperr.CodeOf(err)
	status := http.StatusBadRequest
	msg := "Something went wrong on our side; try again."
	switch code {
	case apperr.Unauthenticated:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", "Bearer")
	case apperr.Forbidden:
		status = http.StatusForbidden
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.Internal:
		status = http.StatusInternalServerError
		log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	if list, ok := apperr.All(err); ok {
		msg = list[0].Message
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}
