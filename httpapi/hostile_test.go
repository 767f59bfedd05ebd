package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"cpor/gqlguard/hostile"
	"cpor/httpapi"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// postOperations sends a document as a GraphQL multipart request's
// operations field, which has its own size limit.
func postOperations(t testing.TB, c *apitest.Client, query string) *apitest.Response {
	t.Helper()
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"f": nil}})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "a.txt")
	_, _ = fw.Write([]byte("hello"))
	_ = mw.Close()
	return c.Post(t, mw.FormDataContentType(), &buf)
}

// hostileMutation puts a fragment bomb under a mutation's payload: it must
// be refused before the mutation runs.
func hostileMutation(claimID string, depth int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `mutation { addComment(input: {claimId: %q, body: "bomb"}) { ...P%d } }`+"\n", claimID, depth)
	b.WriteString("fragment P0 on AddCommentPayload { comment { id } }\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "fragment P%d on AddCommentPayload { ...P%d ...P%d }\n", i, i-1, i-1)
	}
	return b.String()
}

func TestHostileDocumentsAreRefusedBeforeTheyCost(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		claimID := mustFirstClaim(t, srv.Client(t, "ada"))
		before := takeSnapshot(t, w)
		cached := srv.API.CachedDocumentBytes()
		seed := 0
		for _, who := range []string{"", "ada", "rita"} {
			c := srv.Client(t, who)
			for _, class := range hostile.Classes {
				for _, send := range []func(testing.TB, *apitest.Client, string) *apitest.Response{
					func(t testing.TB, c *apitest.Client, q string) *apitest.Response { return c.Do(t, q, nil) },
					postOperations,
				} {
					seed++
					r := send(t, c, class.Doc(seed))
					if r.Status != http.StatusBadRequest || len(r.Data) != 0 {
						t.Errorf("%s as %q: HTTP %d, data %s", class.Name, who, r.Status, r.Data)
					}
					wantGQLError(t, r, class.Code)
				}
			}
			r := c.Do(t, hostileMutation(claimID, 25), nil)
			wantGQLError(t, r, "COMPLEXITY_LIMIT_EXCEEDED")
		}
		if got := srv.API.CachedDocumentBytes(); got != cached {
			t.Errorf("refused documents were cached: %d bytes, was %d", got, cached)
		}
		unchanged(t, w, before, "hostile documents")
	})
}

// TestHugePagesCannotOverflowTheComplexity: page sizes far over the
// maximum, nested, once wrapped the complexity sum round to a negative one,
// which passed the limit.
func TestHugePagesCannotOverflowTheComplexity(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		const huge = "9000000000000000000"
		r := srv.Client(t, "rita").Do(t, `{ claims(first: `+huge+`) {
			nodes { comments(first: `+huge+`) { nodes { id } } history(last: `+huge+`) { nodes { id } } } } }`, nil)
		wantGQLError(t, r, "COMPLEXITY_LIMIT_EXCEEDED")
	})
}

func TestOversizeOperationsFieldIs413(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		before := takeSnapshot(t, w)
		r := postOperations(t, srv.Client(t, "ada"), hostile.Huge(3<<20, 1))
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("3 MiB operations field: HTTP %d %+v", r.Status, r.Errors)
		}
		wantGQLError(t, r, "INVALID_INPUT")
		unchanged(t, w, before, "oversize operations field")
	})
}

// TestRefusalIsBoundedInAllocations counts what refusing each class costs
// the process (server and in-process client together): a bound on work
// that holds on any machine, where a wall-clock bound would not.
func TestRefusalIsBoundedInAllocations(t *testing.T) {
	w := testkit.New(t, storage.SQLite, testkit.Options{Empty: true})
	srv := apitest.NewServer(t, w)
	api := srv.API
	const maxAllocs = 80_000 // a naive server spent millions on the same documents
	for _, class := range hostile.Classes {
		seed := 0
		allocs := testing.AllocsPerRun(5, func() {
			seed++
			if rec := postInProcess(api, jsonQuery(class.Doc(seed))); rec.Code != http.StatusOK {
				t.Fatalf("%s: HTTP %d", class.Name, rec.Code)
			}
		})
		if allocs > maxAllocs {
			t.Errorf("%s: %.0f allocations to refuse, over %d", class.Name, allocs, maxAllocs)
		}
	}
}

// TestDistinctRefusedDocumentsLeaveNothingBehind sends a thousand distinct
// documents that are all refused and checks the heap afterwards.
func TestDistinctRefusedDocumentsLeaveNothingBehind(t *testing.T) {
	w := testkit.New(t, storage.SQLite, testkit.Options{Empty: true})
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) { c.AnonymousBudget.Capacity = 1 << 30 })
	start := liveHeap()
	for i := range 1000 {
		class := hostile.Classes[i%len(hostile.Classes)]
		postInProcess(srv.API, jsonQuery(class.Doc(i)))
	}
	grew := int64(liveHeap()) - int64(start)
	if grew > 20<<20 {
		t.Errorf("the heap grew %d MiB over 1,000 refused documents", grew>>20)
	}
	t.Logf("the heap grew %d KiB over 1,000 distinct refused documents", grew>>10)
}

// BenchmarkHostileDocuments reports, for each hostile class, the server's
// time to refuse one (handler called in-process: no client, no network) and
// the heap it retains per request after garbage collection.
//
//	go test ./httpapi -run '^$' -bench HostileDocuments -benchtime 200x
func BenchmarkHostileDocuments(b *testing.B) {
	w := testkit.New(b, storage.SQLite, testkit.Options{Empty: true})
	srv := apitest.NewServerWith(b, w, func(c *httpapi.Config) { c.AnonymousBudget.Capacity = 1 << 30 })
	for _, class := range hostile.Classes {
		b.Run(strings.SplitN(class.Name, " (", 2)[0], func(b *testing.B) {
			bodies := make([][]byte, 0, 256)
			for i := range cap(bodies) {
				bodies = append(bodies, jsonQuery(class.Doc(b.N*1000+i)))
			}
			start := liveHeap()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if rec := postInProcess(srv.API, bodies[i%len(bodies)]); rec.Code != http.StatusOK {
					b.Fatalf("HTTP %d", rec.Code)
				}
			}
			b.StopTimer()
			retained := max(int64(liveHeap())-int64(start), 0)
			b.ReportMetric(float64(retained)/float64(b.N), "retained-B/op")
		})
	}
}

// postInProcess sends a JSON body straight to the handler: server work
// only, no client and no network.
func postInProcess(api http.Handler, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

// liveHeap is the heap in use once garbage has been collected.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
