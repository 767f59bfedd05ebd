package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"cpor/budget"
	"cpor/httpapi"
	"cpor/models"
	"cpor/reqlog"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

func TestBudgetsLimitEachCaller(t *testing.T) {
	tune := func(c *httpapi.Config) {
		c.Budget = budget.Config{Capacity: 40, PerSecond: 0.01, MaxCallers: 100}
		c.AnonymousBudget = budget.Config{Capacity: 4, PerSecond: 0.01, MaxCallers: 100}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	eachDialectWith(t, tune, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		const query = `{ viewer { name email roles } }`
		ada := bearer(t, "ada")
		last := 41
		for i := 0; ; i++ {
			resp, r, ext := rawDo(t, srv.URL, query, ada)
			if resp.StatusCode == http.StatusTooManyRequests {
				wantGQLError(t, &r, "RATE_LIMITED")
				wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || wait < 1 {
					t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
				}
				if r.Errors[0].Extensions["retryAfter"] != float64(wait) {
					t.Errorf("extensions.retryAfter %v, Retry-After %d", r.Errors[0].Extensions["retryAfter"], wait)
				}
				if len(r.Data) != 0 {
					t.Errorf("a refused operation has data %s", r.Data)
				}
				break
			}
			if resp.StatusCode != http.StatusOK || i > 20 {
				t.Fatalf("request %d: HTTP %d %+v", i, resp.StatusCode, r.Errors)
			}
			cost, _ := ext["cost"].(map[string]any)
			remaining, _ := cost["remaining"].(float64)
			if cost["requested"] != float64(4) || cost["capacity"] != float64(40) || cost["restoreRate"] != 0.01 || int(remaining) >= last {
				t.Fatalf("request %d: extensions.cost %v", i, ext["cost"])
			}
			last = int(remaining)
		}
		// A mutation refused for its cost changes nothing.
		before := takeSnapshot(t, w)
		claimID := mustFirstClaim(t, srv.Client(t, "ben"))
		resp, r, _ := rawDo(t, srv.URL, `mutation { addComment(input: {claimId: "`+claimID+`", body: "over budget"}) { comment { id } } }`, ada)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("mutation over budget: HTTP %d %+v", resp.StatusCode, r.Errors)
		}
		unchanged(t, w, before, "a mutation over budget")

		// Another user has a budget of its own.
		if resp, r, _ := rawDo(t, srv.URL, query, bearer(t, "ben")); resp.StatusCode != http.StatusOK {
			t.Errorf("ben after ada spent hers: HTTP %d %+v", resp.StatusCode, r.Errors)
		}
		// Anonymous callers are budgeted by address; behind a trusted proxy,
		// by the address it forwards.
		for _, client := range []string{"203.0.113.7", "203.0.113.8"} {
			header := http.Header{"X-Forwarded-For": {"198.51.100.1, " + client}}
			refused := false
			for range 6 {
				if resp, _, _ := rawDo(t, srv.URL, `{ __typename }`, header); resp.StatusCode == http.StatusTooManyRequests {
					refused = true
					break
				}
			}
			if !refused {
				t.Errorf("anonymous %s was never limited", client)
			}
		}
	})
}

func TestOperationsEndAtTheirDeadline(t *testing.T) {
	eachDialectWith(t, func(c *httpapi.Config) { c.OperationTimeout = time.Nanosecond }, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		claimID := mustFirstClaim(t, apitest.NewServer(t, w).Client(t, "ada"))
		before := takeSnapshot(t, w)
		_, r, _ := rawDo(t, srv.URL, `{ claims(first: 5) { nodes { id comments { nodes { body } } } } }`, bearer(t, "ada"))
		wantGQLError(t, &r, "TIMEOUT")
		_, r, _ = rawDo(t, srv.URL, `mutation { addComment(input: {claimId: "`+claimID+`", body: "too late"}) { comment { id } } }`, bearer(t, "ada"))
		wantGQLError(t, &r, "TIMEOUT")
		unchanged(t, w, before, "operations past their deadline")
	})
}

// TestDeadlineCancelsDatabaseWork holds a lock that a transition waits
// for: at the deadline the wait is cancelled, the client gets TIMEOUT, the
// log line names the request, and the claim is as it was.
func TestDeadlineCancelsDatabaseWork(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		var logs syncLog
		log := slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil)))
		srv := apitest.NewServerLogging(t, w, func(c *httpapi.Config) { c.OperationTimeout = 300 * time.Millisecond }, log)
		claim := claimWithStatus(t, w, contoso, models.Submitted)
		before := takeSnapshot(t, w)

		// Another writer holds the claim (on SQLite, the database).
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- storage.InTx(context.Background(), w.DB, func(tx *storage.Tx) error {
				if err := storage.ForUpdate(tx.DB).Where("id = ?", claim).Take(&models.Claim{}).Error; err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		header := bearer(t, "rita")
		header.Set("X-Request-ID", "deadline-test-1")
		_, r, _ := rawDo(t, srv.URL, `mutation { startReview(input: {claimId: "`+gid(claim)+`"}) { claim { status } } }`, header)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wantGQLError(t, &r, "TIMEOUT")
		unchanged(t, w, before, "a transition past its deadline")

		var found bool
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "operation timed out") {
				found = true
				if !strings.Contains(line, `"request_id":"deadline-test-1"`) {
					t.Errorf("log line without the request ID: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("no log line for the timeout: %s", logs.String())
		}
	})
}

func TestResponsesAreCapped(t *testing.T) {
	eachDialectWith(t, func(c *httpapi.Config) { c.MaxResponseBytes = 512 }, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		_, r, _ := rawDo(t, srv.URL, `{ claims(first: 50) { nodes { id status customerDomain notes } } }`, bearer(t, "rita"))
		wantGQLError(t, &r, "RESPONSE_TOO_LARGE")
		if string(r.Data) != "null" {
			t.Errorf("data of a capped response: %s", r.Data)
		}
		if _, r, _ := rawDo(t, srv.URL, `{ viewer { name } }`, bearer(t, "rita")); len(r.Errors) > 0 {
			t.Errorf("a small response was refused: %+v", r.Errors)
		}
	})
}

func TestIntrospectionSwitch(t *testing.T) {
	queries := []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Query") { name } }`,
		`{ ...Q } fragment Q on Query { ... on Query { __schema { queryType { name } } } }`,
	}
	for _, on := range []bool{false, true} {
		eachDialectWith(t, func(c *httpapi.Config) { c.Introspection = on }, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
			for _, who := range []http.Header{nil, bearer(t, "rita")} {
				for _, query := range queries {
					resp, r, _ := rawDo(t, srv.URL, query, who)
					answered := strings.Contains(string(r.Data), `"Query"`)
					if answered != on {
						t.Errorf("introspection %v: %s answered %v (%s %+v)", on, query, answered, r.Data, r.Errors)
					}
					if !on && (resp.StatusCode != http.StatusBadRequest || len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN") {
						t.Errorf("introspection off: %s gave HTTP %d %+v", query, resp.StatusCode, r.Errors)
					}
				}
				if _, r, _ := rawDo(t, srv.URL, `{ __typename }`, who); len(r.Errors) > 0 {
					t.Errorf("__typename with introspection %v: %+v", on, r.Errors)
				}
			}
		})
	}
}

func TestOneOriginRuleForHTTPAndWebsockets(t *testing.T) {
	const app, evil = "https://app.example.com", "https://evil.example.net"
	for _, allowed := range [][]string{nil, {app}} {
		eachDialectWith(t, func(c *httpapi.Config) { c.AllowedOrigins = allowed }, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
			for _, origin := range []string{app, evil, srv.URL, ""} {
				want := origin != evil && (origin != app || allowed != nil)
				header := bearer(t, "rita")
				if origin != "" {
					header.Set("Origin", origin)
				}
				resp, r, _ := rawDo(t, srv.URL, `{ viewer { name } }`, header)
				if (resp.StatusCode == http.StatusOK) != want {
					t.Errorf("allowed %v, Origin %q: HTTP %d %+v", allowed, origin, resp.StatusCode, r.Errors)
				}
				acao := resp.Header.Get("Access-Control-Allow-Origin")
				if acao == "*" || (acao != "" && acao != origin) {
					t.Errorf("allowed %v, Origin %q: Access-Control-Allow-Origin %q", allowed, origin, acao)
				}
				if !want && r.Errors[0].Code() != "FORBIDDEN" {
					t.Errorf("refused origin: %+v", r.Errors)
				}

				// Preflight.
				req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/graphql", nil)
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
				pre, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				pre.Body.Close()
				if origin != "" && origin != srv.URL && (pre.Header.Get("Access-Control-Allow-Origin") == origin) != want {
					t.Errorf("allowed %v: preflight from %q: HTTP %d, allow-origin %q", allowed, origin, pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
				}

				// The same rule for websockets.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				wsHeader := http.Header{}
				if origin != "" {
					wsHeader.Set("Origin", origin)
				}
				conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
					&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: wsHeader})
				cancel()
				if (err == nil) != want {
					t.Errorf("allowed %v: websocket from %q: %v", allowed, origin, err)
				}
				if conn != nil {
					_ = conn.CloseNow()
				}
			}
		})
	}
}

func TestMetricsAreOnTheAdminHandlerByRoute(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		if resp := srv.Client(t, "rita").Get(t, "/metrics"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the API: HTTP %d", resp.StatusCode)
		}
		rawDo(t, srv.URL, `{ viewer { name } }`, bearer(t, "rita"))
		rawDo(t, srv.URL, `{ viewer { name } }`, nil)
		rawDo(t, srv.URL, `query WhoAmI { viewer { name } }`, bearer(t, "rita"))
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "rita"))
		resp := (&apitest.Client{URL: srv.Admin.URL}).Get(t, "/metrics")
		raw, _ := io.ReadAll(resp.Body)
		metrics := string(raw)
		if !strings.Contains(metrics, `cpor_http_request_duration_seconds_count{method="POST",route="/graphql",status="200"} 3`) {
			t.Errorf("signed-in and anonymous requests not both labelled /graphql:\n%s", grepLines(metrics, "cpor_http_request_duration_seconds_count"))
		}
		if strings.Contains(metrics, `route="other"`) {
			t.Error(`a request labelled route="other"`)
		}
		for _, series := range []string{
			`cpor_graphql_operation_duration_seconds_count{name="WhoAmI",operation="query",outcome="ok"} 1`,
			`cpor_graphql_operation_duration_seconds_count{name="anonymous",operation="query",outcome="ok"} 1`,
			"cpor_websocket_connections 1",
			`go_sql_open_connections{db_name="` + string(w.Dialect) + `"}`,
		} {
			if !strings.Contains(metrics, series) {
				t.Errorf("no %s in the metrics:\n%s", series, grepLines(metrics, strings.SplitN(series, "{", 2)[0]))
			}
		}
	})
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
