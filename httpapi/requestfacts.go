package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"cpor/auth"
	"cpor/notify"
	"cpor/reqlog"
)

// requestFacts is what inner layers learn of a request (who calls, which
// operation) for the access-log line, which the outermost layer writes.
type requestFacts struct {
	mu        sync.Mutex
	user      string
	operation string
}

type factsKey struct{}

func withFacts(ctx context.Context) (context.Context, *requestFacts) {
	f := &requestFacts{}
	return context.WithValue(ctx, factsKey{}, f), f
}

func factsOf(ctx context.Context) *requestFacts {
	f, _ := ctx.Value(factsKey{}).(*requestFacts)
	return f
}

// attrs are the facts as log attributes; empty ones are left out.
func (f *requestFacts) attrs() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []any
	if f.user != "" {
		out = append(out, "user", f.user)
	}
	if f.operation != "" {
		out = append(out, "operation", f.operation)
	}
	return out
}

// identify puts the caller's user ID on every log line of the request and
// tells the notification directory who calls (in the background: the
// request never waits for it).
func identify(people *notify.Directory, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := auth.FromContext(r.Context()); err == nil {
			if f := factsOf(r.Context()); f != nil {
				f.mu.Lock()
				f.user = id.UserID
				f.mu.Unlock()
			}
			r = r.WithContext(reqlog.With(r.Context(), slog.String("user", id.UserID)))
			if people != nil {
				people.Saw(id)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// nameOperation puts the operation's name (and type) on every log line the
// operation writes and on the request's access-log line.
func nameOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil {
		return next(ctx)
	}
	typ, name := operationLabel(oc)
	name = typ + " " + name
	if f := factsOf(ctx); f != nil {
		f.mu.Lock()
		f.operation = name
		f.mu.Unlock()
	}
	return next(reqlog.With(ctx, slog.String("operation", name)))
}
