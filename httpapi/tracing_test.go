package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"cpor/httpapi"
	"cpor/models"
	"cpor/reqlog"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/tracing"
	"cpor/workflow"
)

func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func attr(s tracetest.SpanStub, key string) (string, bool) {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit(), true
		}
	}
	return "", false
}

// TestTracesFollowARequestIntoItsStatements: a GraphQL query carrying a
// traceparent continues that trace with a server span named by the route,
// an operation span under it, and the SQL statements under that, whose
// text has placeholders and none of the query's values. Every log line of
// the request names the trace.
func TestTracesFollowARequestIntoItsStatements(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	tp, exp := recorder(t)
	var logs syncLog
	srv := apitest.NewServerTraced(t, w, tp, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
	claim := claimWithStatus(t, w, contoso, models.Submitted)
	exp.Reset()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	header := bearer(t, "rita")
	header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, out, _ := rawDo(t, srv.URL, `query OneClaim { claim(id: "`+gid(claim)+`") { id status } }`, header)
	if resp.StatusCode != 200 || len(out.Errors) > 0 {
		t.Fatalf("query answered %d %+v", resp.StatusCode, out.Errors)
	}

	spans := exp.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != traceID {
			continue
		}
		byID[s.SpanContext.SpanID()] = s
	}
	if len(byID) == 0 {
		t.Fatalf("no span continues trace %s; spans: %v", traceID, names(spans))
	}
	var server, op tracetest.SpanStub
	for _, s := range byID {
		switch {
		case s.SpanKind == trace.SpanKindServer:
			server = s
		case s.Name == "graphql.query OneClaim":
			op = s
		}
	}
	if server.Name != "POST /graphql" {
		t.Fatalf("server span %q, want \"POST /graphql\"; spans: %v", server.Name, names(spans))
	}
	if server.Parent.SpanID().String() != "00f067aa0ba902b7" || !server.Parent.IsRemote() {
		t.Errorf("server span's parent %v, want the incoming traceparent's span", server.Parent)
	}
	if op.Name == "" {
		t.Fatalf("no graphql.query OneClaim span; spans: %v", names(spans))
	}
	if op.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Errorf("operation span is not the server span's child")
	}
	if v, _ := attr(op, "graphql.operation.type"); v != "query" {
		t.Errorf("graphql.operation.type = %q", v)
	}
	if v, _ := attr(op, "graphql.operation.name"); v != "OneClaim" {
		t.Errorf("graphql.operation.name = %q", v)
	}
	under := func(s tracetest.SpanStub, ancestor trace.SpanID) bool {
		for s.Parent.IsValid() {
			if s.Parent.SpanID() == ancestor {
				return true
			}
			p, ok := byID[s.Parent.SpanID()]
			if !ok {
				return false
			}
			s = p
		}
		return false
	}
	statements := 0
	for _, s := range byID {
		stmt, ok := attr(s, "db.statement")
		if !ok {
			continue
		}
		statements++
		t.Logf("%s: %s", s.Name, stmt)
		if !under(s, op.SpanContext.SpanID()) {
			t.Errorf("statement span %q (%s) is not under the operation span", s.Name, stmt)
		}
		if sys, _ := attr(s, "db.system"); sys != "sqlite" {
			t.Errorf("db.system = %q", sys)
		}
		if stmt == "" || strings.Contains(stmt, claim.String()) || strings.Contains(stmt, gid(claim)) {
			t.Errorf("db.statement %q is empty or carries a parameter value", stmt)
		}
	}
	if statements == 0 {
		t.Fatalf("no SQL statement span in the trace; spans: %v", names(spans))
	}

	var access bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"route":"/graphql"`) {
			access = true
			if !strings.Contains(line, `"trace_id":"`+traceID+`"`) {
				t.Errorf("access log line without the trace ID: %s", line)
			}
		}
	}
	if !access {
		t.Errorf("no access log line:\n%s", logs.String())
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestSubscriptionEventsAreTraced: each event delivered on a websocket
// subscription is a span of its own.
func TestSubscriptionEventsAreTraced(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	tp, exp := recorder(t)
	srv := apitest.NewServerTraced(t, w, tp, storagetest.Logger(t))
	claim := claimWithStatus(t, w, contoso, models.Submitted)
	ws := srv.DialWS(t, "graphql-transport-ws", nil)
	ws.Init(apitest.Token(t, "rita"))
	ws.Subscribe("1", "subscription StatusWatch"+strings.TrimPrefix(statusSubscription, "subscription"), map[string]any{"id": gid(claim)})
	waitSubscribers(t, w.Live, 1)
	if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
		t.Fatal(err)
	}
	var ev statusEvent
	next(t, ws, "1", "claimStatusChanged", &ev)

	deadline := time.Now().Add(5 * time.Second)
	for {
		var events, subscribes int
		for _, s := range exp.GetSpans() {
			switch s.Name {
			case "graphql.subscription.event StatusWatch":
				events++
				if v, _ := attr(s, "graphql.operation.type"); v != "subscription" {
					t.Errorf("event span's graphql.operation.type = %q", v)
				}
			case "graphql.subscription StatusWatch":
				subscribes++
			}
		}
		if events >= 1 && subscribes == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d event spans, %d subscription spans; spans: %v", events, subscribes, names(exp.GetSpans()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTracingOffAddsNothing: with no tracer provider, nothing is recorded
// even with a provider installed globally, and log lines carry no trace ID.
func TestTracingOffAddsNothing(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	tp, exp := recorder(t)
	restore := tracing.Use(tp)
	defer restore()
	var logs syncLog
	srv := apitest.NewServerLogging(t, w, nil, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
	header := bearer(t, "rita")
	header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rawDo(t, srv.URL, `query WhoAmI { viewer { name } }`, header)
	if spans := exp.GetSpans(); len(spans) > 0 {
		t.Errorf("tracing off recorded %v", names(spans))
	}
	if strings.Contains(logs.String(), "trace_id") {
		t.Errorf("tracing off put trace IDs in the logs:\n%s", logs.String())
	}
}

// TestCORSAllowsTraceContextHeaders: a browser app on an allowed origin
// may send traceparent and tracestate.
func TestCORSAllowsTraceContextHeaders(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/graphql", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "content-type,traceparent,tracestate")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	if !strings.Contains(allowed, "traceparent") || !strings.Contains(allowed, "tracestate") {
		t.Fatalf("preflight allowed headers %q (status %d)", allowed, resp.StatusCode)
	}
}
