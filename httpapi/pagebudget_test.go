package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cpor/httpapi"
	"cpor/models"
	"cpor/reqlog"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// reviewListPage is what the review app's list shows: a page of claims, newest
// first, each with its customer, product, MPN, opening comments and latest
// history.
const reviewListPage = `query ClaimsPage {
  claims(first: $first, orderBy: {field: CREATED_AT, direction: DESC}) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id status version activity
      customerTenant { displayName domains { name isInitial } }
      product { name code }
      mpn { mpnId name }
      comments(first: 5) { nodes { body author { name } } }
      history(last: 5) { nodes { type event fromStatus toStatus createdAt actor { name } } }
    } }
  }
}`

// searchedListPage is the review list searched, narrowed to a time range
// and sorted by submission time: the search's joined tables (tenants,
// domains, organisations) must not add statements.
var searchedListPage = strings.Replace(reviewListPage,
	"claims(first: $first, orderBy: {field: CREATED_AT, direction: DESC})",
	`claims(first: $first, filter: {search: "busy", submitted: {from: "2000-01-01T00:00:00Z"}}, orderBy: {field: SUBMITTED_AT, direction: DESC})`, 1)

// everythingPage asks for every relation a claim has, each nested
// connection and list included, oldest claims first: the demo's approved
// claim (an association) and its arbitration case among them.
const everythingPage = `query EverythingPage {
  claims(first: $first, orderBy: {field: CREATED_AT, direction: ASC}) {
    nodes {
      id
      organization { name }
      customerTenant { displayName domains { name } }
      product { name }
      mpn { mpnId name }
      association { id }
      arbitrationCase { status claims { id status } }
      reclaimedFrom { id }
      comments(first: 5) { totalCount nodes { body } }
      history(last: 5) { nodes { event comment { body } proofOfExecution { fileName } } }
      proofOfExecution(first: 2) { nodes { fileName sizeBytes } }
    }
  }
}`

// Statement budgets of the claim pages, whatever their size: the page
// (with the product, MPN, tenant and organisation of each claim), the
// tenants' domains, then one statement per kind of row the page shows
// beyond those, never one per claim (SQL statements are counted by the
// storage layer).
var pageBudgets = []struct {
	name, query string
	statements  int64
}{
	// page, domains, comments, history
	{"claims page", reviewListPage, 4},
	// the same: search and time ranges are subqueries of the page's statement
	{"searched claims page", searchedListPage, 4},
	// page, domains, comments, their totals, history, the events' comments
	// and documents, documents, associations, arbitration cases, their claims
	{"every relation", everythingPage, 11},
}

func TestClaimPagesSendABoundedNumberOfStatements(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		var logs syncLog
		log := slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil)))
		srv := apitest.NewServerLogging(t, w, nil, log)
		seedBusyClaims(t, w, 50)
		for _, page := range pageBudgets {
			var sent []int64
			for _, size := range []int{1, 10, 50} {
				id := fmt.Sprintf("budget-%s-%d", strings.ReplaceAll(page.name, " ", "-"), size)
				got := statementsOf(t, srv, &logs, id, page.query, size)
				sent = append(sent, got)
				t.Logf("%s of %d claims: %d SQL statements", page.name, size, got)
				if got > page.statements {
					t.Errorf("%s of %d claims: %d SQL statements, want at most %d", page.name, size, got, page.statements)
				}
			}
			// 10 and 50 claims show every kind of row; 1 may show fewer.
			if sent[1] != sent[2] {
				t.Errorf("%s: %v SQL statements for 1, 10 and 50 claims; a longer page must not send more", page.name, sent)
			}
		}
		// One claim with its customer and product is one statement.
		var c models.Claim
		if err := w.DB.Order("created_at DESC").Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		one := `query OneClaim { claim(id: "` + gid(c.ID) + `") { status version customerTenant { displayName } product { name } mpn { name } } }`
		if got := statementsOf(t, srv, &logs, "budget-one-claim", one, 0); got != 1 {
			t.Errorf("one claim: %d SQL statements, want 1", got)
		}
	})
}

// seedBusyClaims submits n claims with a thread of comments each, so that
// every relation of a page has rows.
func seedBusyClaims(t testing.TB, w *testkit.World, n int) {
	t.Helper()
	for i := range n {
		claim := testkit.SubmitFreshClaim(t, w, "ada", fmt.Sprintf("busy%d", i))
		for j := range 2 {
			if _, err := w.Claims.AddComment(testkit.As("ada"), claim, fmt.Sprintf("Note %d on claim %d.", j, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// statementsOf runs the query as a reviewer and reads the number of SQL
// statements the request sent from its access-log line.
func statementsOf(t *testing.T, srv *apitest.Server, logs *syncLog, requestID, query string, first int) int64 {
	t.Helper()
	header := bearer(t, "rita")
	header.Set("X-Request-ID", requestID)
	_, resp, _ := rawDo(t, srv.URL, strings.ReplaceAll(query, "$first", strconv.Itoa(first)), header)
	if len(resp.Errors) > 0 {
		t.Fatalf("%s: %v", requestID, resp.Errors)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		var entry struct {
			Msg        string `json:"msg"`
			RequestID  string `json:"request_id"`
			Statements *int64 `json:"sql_statements"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request" && entry.RequestID == requestID {
			if entry.Statements == nil {
				t.Fatalf("access log line without sql_statements: %s", line)
			}
			return *entry.Statements
		}
	}
	t.Fatalf("no access log line for %s", requestID)
	return 0
}

// BenchmarkClaimsPage serves the review list of 50 claims in-process (no
// client, no network): the server's own time and allocations per page.
//
//	TEST_DATABASE_URL=postgres://… go test ./httpapi -run '^$' -bench ClaimsPage -benchmem
func BenchmarkClaimsPage(b *testing.B) {
	testkit.Each(b, func(b *testing.B, w *testkit.World) {
		srv := apitest.NewServerWith(b, w, func(c *httpapi.Config) { c.Budget.Capacity = 0 })
		seedBusyClaims(b, w, 50)
		body := jsonQuery(strings.ReplaceAll(reviewListPage, "$first", "50"))
		token := "Bearer " + apitest.Token(b, "rita")
		start := processCPU()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", token)
			rec := httptest.NewRecorder()
			srv.API.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
				b.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		}
		b.ReportMetric(float64((processCPU()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A page of arbitration cases loads the claims of all its cases in one
// statement.
func TestCasePagesLoadTheirClaimsTogether(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		var logs syncLog
		srv := apitest.NewServerLogging(t, w, nil, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
		page := `query CasePage { arbitrationCases(first: $first) { nodes { status product { name } claims { id status organization { name } } } } }`
		for _, size := range []int{1, 10} {
			// the page, products, claims of the cases, their organisations
			if got := statementsOf(t, srv, &logs, fmt.Sprintf("cases-%d", size), page, size); got > 4 {
				t.Errorf("%d cases: %d SQL statements, want at most 4", size, got)
			}
		}
	})
}

// TestInboxPageLoadsItsClaimsTogether: an inbox page sends the same few
// statements whatever its size: the page, the unread count, the claims the
// notifications are about, and their organisations.
func TestInboxPageLoadsItsClaimsTogether(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		var logs syncLog
		srv := apitest.NewServerLogging(t, w, nil, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
		seedBusyClaims(t, w, 25)
		page := `query InboxPage { viewer { notifications(first: $first) { unreadCount
		  nodes { kind title readAt claim { id status organization { name } } } } } }`
		var sent []int64
		for _, size := range []int{1, 10, 25} {
			got := statementsOf(t, srv, &logs, fmt.Sprintf("inbox-%d", size), page, size)
			sent = append(sent, got)
			if got > 4 {
				t.Errorf("an inbox page of %d: %d SQL statements, want at most 4", size, got)
			}
		}
		if sent[1] != sent[2] {
			t.Errorf("inbox pages of 1, 10 and 25 sent %v statements; a longer page must not send more", sent)
		}
	})
}
