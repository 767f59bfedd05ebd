package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"cpor/reqlog"
	"cpor/tracing"
)

const tracerName = "cpor/httpapi"

// traced wraps next in a server span per request, named by method and the
// route the mux chose (its pattern, never the raw path, so that span names
// stay few), continuing a trace whose traceparent the request carries; every
// log line of the request then names the trace. With tracing off it is next
// itself.
func traced(tp trace.TracerProvider, routes *http.ServeMux, next http.Handler) http.Handler {
	if !tracing.On(tp) {
		return next
	}
	withTraceID := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		span := trace.SpanFromContext(ctx)
		if sc := span.SpanContext(); sc.IsValid() {
			span.SetAttributes(attribute.String("http.route", routeOf(routes, r)))
			r = r.WithContext(reqlog.With(ctx, slog.String("trace_id", sc.TraceID().String())))
		}
		next.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(withTraceID, "http",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(tracing.Propagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + routeOf(routes, r)
		}))
}

// routeOf is the path pattern of the route the mux chooses for r, without
// its method, or "unmatched".
func routeOf(routes *http.ServeMux, r *http.Request) string {
	_, pattern := routes.Handler(r)
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern
}

// operationLabel names an operation as the logs and spans
// do: its type (query, mutation, subscription) and its name, "anonymous"
// when it has none.
func operationLabel(oc *graphql.OperationContext) (typ, name string) {
	name = oc.Operation.Name
	if name == "" {
		name = "anonymous"
	}
	return string(oc.Operation.Operation), name
}

// traceOperations starts a span per GraphQL operation, "graphql.<type>
// <name>", child of the request's span. A query's or mutation's span lasts
// until its last response; a subscription's covers the subscribing only,
// each event it delivers having its own span (see wsOperation.eventSpan).
func traceOperations(tracer trace.Tracer) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if oc == nil || oc.Operation == nil {
			return next(ctx)
		}
		typ, name := operationLabel(oc)
		ctx, span := tracer.Start(ctx, "graphql."+typ+" "+name, trace.WithAttributes(
			attribute.String("graphql.operation.type", typ),
			attribute.String("graphql.operation.name", name)))
		h := next(ctx)
		if typ == "subscription" {
			span.End()
			return h
		}
		var once sync.Once
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp == nil || resp.HasNext == nil || !*resp.HasNext {
				once.Do(func() { span.End() })
			}
			return resp
		}
	}
}
