// Package tracing sets up OpenTelemetry traces: off unless the environment
// asks for an OTLP exporter, so that an unconfigured service keeps the
// no-op tracer and pays nothing.
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME says otherwise.
const DefaultServiceName = "cpor"

// Enabled tells whether the environment asks for traces: OTEL_TRACES_EXPORTER
// is otlp, or an OTLP endpoint is set and the exporter is not "none".
func Enabled(getenv func(string) string) bool {
	switch strings.TrimSpace(strings.ToLower(getenv("OTEL_TRACES_EXPORTER"))) {
	case "otlp":
		return true
	case "none":
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Propagator is the W3C trace-context and baggage propagator, which Setup
// installs globally and the HTTP middleware uses.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Setup installs the propagator and, when the environment asks for traces
// (see Enabled), a tracer provider exporting over OTLP/HTTP in batches; the
// exporter reads the standard OTEL_EXPORTER_OTLP_* variables and the SDK
// reads OTEL_TRACES_SAMPLER. Off, it returns a no-op provider and leaves
// the global one alone. shutdown flushes the spans still buffered.
func Setup(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	otel.SetTextMapPropagator(Propagator())
	if !Enabled(getenv) {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	if e := strings.TrimSpace(strings.ToLower(getenv("OTEL_TRACES_EXPORTER"))); e != "" && e != "otlp" {
		return nil, nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: only otlp (or none) is supported", e)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = DefaultServiceName
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		// Schema URLs in conflict: the attributes alone still serve.
		res = resource.NewSchemaless(attribute.String("service.name", name))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp, tp.Shutdown, nil
}

// On tells whether tp records anything: nil and the no-op provider do not,
// and callers skip their instrumentation for them.
func On(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// Use installs tp as the global provider (and the propagator) until the
// returned restore is called: for tests of code that reads the globals.
func Use(tp trace.TracerProvider) (restore func()) {
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	// Setting the global provider to itself makes OpenTelemetry log an
	// error: set only what changes.
	set := func(to trace.TracerProvider) {
		if to != otel.GetTracerProvider() {
			otel.SetTracerProvider(to)
		}
	}
	set(tp)
	otel.SetTextMapPropagator(Propagator())
	return func() {
		set(prevTP)
		otel.SetTextMapPropagator(prevProp)
	}
}
