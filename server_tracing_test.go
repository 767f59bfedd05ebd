package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"cpor/tracing"
)

// TestServeExportsTracesWhenAsked: with OTEL_TRACES_EXPORTER=otlp the
// server's spans reach the collector, at the latest when the drain flushes
// them on stopping.
func TestServeExportsTracesWhenAsked(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	// The exporter reads its endpoint from the process's environment.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	defer tracing.Use(otel.GetTracerProvider())()

	env := envOf(map[string]string{"CPOR_DATA_DIR": t.TempDir(), "CPOR_ADDR": "127.0.0.1:0", "CPOR_ADMIN_ADDR": "off",
		"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, &out, &bytes.Buffer{}) }()

	addr := regexp.MustCompile(`graphql:\s+(http://\S+)/graphql`)
	deadline := time.Now().Add(30 * time.Second)
	for !addr.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; output: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(addr.FindStringSubmatch(out.String())[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	if posts.Load() == 0 {
		t.Fatal("no spans reached the collector")
	}
}
