package reqlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"cpor/reqlog"
)

func TestLinesCarryTheContextsAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqlog.Handler(slog.NewJSONHandler(&buf, nil))).With("service", "cpor")
	ctx := reqlog.With(context.Background(), slog.String("request_id", "r1"))
	inner := reqlog.With(ctx, slog.String("operation", "ClaimsPage"))

	log.InfoContext(inner, "one")
	log.InfoContext(ctx, "two")
	log.Info("three")
	want := []map[string]string{
		{"msg": "one", "service": "cpor", "request_id": "r1", "operation": "ClaimsPage"},
		{"msg": "two", "service": "cpor", "request_id": "r1"},
		{"msg": "three", "service": "cpor"},
	}
	dec := json.NewDecoder(&buf)
	for i, w := range want {
		var got map[string]any
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		if _, leaked := got["operation"]; leaked && w["operation"] == "" {
			t.Errorf("line %d carries an inner context's attribute", i)
		}
	}
}
