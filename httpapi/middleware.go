package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"cpor/apperr"
	"cpor/reqlog"
	"cpor/storage"
)

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
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
// returned to the client and carried by every log line of the request; it
// records the client's address for anonymous budgets, labels metrics with
// the route the mux chose, and recovers panics outside gqlgen.
func accessLog(log *slog.Logger, m *metrics, routes *http.ServeMux, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		ctx := reqlog.With(r.Context(), slog.String("request_id", id))
		ctx = withClientAddr(ctx, clientAddr(r, trusted))
		ctx, tally := storage.WithTally(ctx)
		ctx, facts := withFacts(ctx)
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			// http.ErrAbortHandler is a handler's deliberate abort of a
			// response it has begun (the export, on an error mid-stream):
			// it is passed on below, so the server drops the connection
			// instead of ending the response as if it were complete.
			if p != nil && p != http.ErrAbortHandler {
				log.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeErrorBody(rec, http.StatusInternalServerError, "Something went wrong on our side; try again.", apperr.Internal)
				}
			}
			elapsed := time.Since(start)
			_, route := routes.Handler(r)
			if route == "" {
				route = "unmatched"
			}
			m.observeHTTP(route, r.Method, rec.status, elapsed)
			log.InfoContext(ctx, "request", append([]any{"method", r.Method, "route", route,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000,
				"sql_statements", tally.Statements()}, facts.attrs()...)...)
			if p == http.ErrAbortHandler {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// validRequestID accepts a client's request ID when it is short and plain,
// so that it can go into logs as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type clientAddrKey struct{}

func withClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddrFrom is the client address accessLog recorded.
func clientAddrFrom(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

// clientAddr is the address a request comes from: the peer's, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not one. An IPv6 client is taken by its /64, which one client usually
// holds whole.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0 && isTrusted(addr, trusted); i-- {
		next, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = next
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// limitBody bounds request bodies: maxBody for JSON, maxUpload for multipart
// uploads (the file plus the operation's own fields). A body declared larger
// is refused at once with 413; one that turns out larger while it is read
// (chunked) fails the read, which the transport answers with 413.
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
			msg := fmt.Sprintf("The request body is larger than %d KiB; send a smaller request.", limit>>10)
			if upload {
				msg = fmt.Sprintf("The upload is larger than %d MiB; attach a smaller file or split it.", limit>>20)
			}
			w.Header().Set("Connection", "close")
			writeErrorBody(w, http.StatusRequestEntityTooLarge, msg, apperr.InvalidInput)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// writeErrorBody answers with one GraphQL-shaped error.
func writeErrorBody(w http.ResponseWriter, status int, msg string, code apperr.Code) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}
