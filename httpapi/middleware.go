package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

func stack() string { return string(debug.Stack()) }

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (for
// flushing and for websocket hijacking).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog logs one line per request, with a request ID that is also
// returned to the client, and recovers panics outside gqlgen.
func accessLog(log *slog.Logger, m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(r.Context(), "handler panicked", "request_id", id, "panic", p, "stack", stack())
				if rec.status == 0 {
					http.Error(rec, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`, http.StatusInternalServerError)
				}
			}
			elapsed := time.Since(start)
			route := routeOf(r)
			m.observeHTTP(route, r.Method, rec.status, elapsed)
			log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "route", route,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "other"
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// limitBody bounds request bodies: maxBody for JSON, maxUpload for multipart
// uploads (the file plus the operation's own fields). A body declared larger
// is refused at once with 413 and a GraphQL-shaped error; one that turns out
// larger while it is read (chunked) is answered 413 too.
func limitBody(maxBody, maxUpload int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limit, upload := maxBody, isMultipart(r)
		if upload {
			limit = maxUpload
		}
		if r.ContentLength > limit {
			writeTooLarge(w, limit, upload)
			return
		}
		body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit)}
		r.Body = body
		next.ServeHTTP(&tooLargeWriter{ResponseWriter: w, body: body}, r)
	})
}

func isMultipart(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return len(ct) >= 19 && ct[:19] == "multipart/form-data"
}
