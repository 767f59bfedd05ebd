package tracing_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"cpor/tracing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEnabledDecision(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "OTLP"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://localhost:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}, false},
	} {
		if got := tracing.Enabled(env(c.env)); got != c.want {
			t.Errorf("Enabled(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestSetupOffIsANoOp(t *testing.T) {
	before := otel.GetTracerProvider()
	tp, shutdown, err := tracing.Setup(context.Background(), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if tracing.On(tp) {
		t.Errorf("Setup with no OTEL_* returned a recording provider %T", tp)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	if span.SpanContext().IsValid() || span.IsRecording() {
		t.Error("the off provider's span is valid or recording")
	}
	span.End()
	if otel.GetTracerProvider() != before {
		t.Error("Setup off replaced the global tracer provider")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if got := otel.GetTextMapPropagator().Fields(); len(got) < 2 {
		t.Errorf("propagator fields %v, want traceparent, tracestate, baggage", got)
	}
}

func TestSetupOnExportsOverOTLP(t *testing.T) {
	restore := tracing.Use(otel.GetTracerProvider())
	defer restore()
	// Nothing listens here; shutdown's flush fails fast or times out, which
	// is not what this test is about.
	tp, shutdown, err := tracing.Setup(context.Background(), env(map[string]string{
		"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "cpor-test"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tp.(*sdktrace.TracerProvider); !ok {
		t.Fatalf("Setup on returned %T, want the SDK's provider", tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	_ = shutdown(ctx)
}

func TestOn(t *testing.T) {
	if tracing.On(nil) {
		t.Error("nil provider is on")
	}
	if !tracing.On(sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))) {
		t.Error("SDK provider is off")
	}
}
