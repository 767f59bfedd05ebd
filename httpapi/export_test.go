package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"cpor/claims"
	"cpor/demo"
	"cpor/httpapi"
	"cpor/models"
	"cpor/relay"
	"cpor/reqlog"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// exportGet requests the export with the query as the demo user (empty:
// anonymous).
func exportGet(t testing.TB, srv *apitest.Server, handle string, query url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+httpapi.ExportPath+"?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if handle != "" {
		req.Header.Set("Authorization", "Bearer "+apitest.Token(t, handle))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// exportRows reads a successful export, checking its headers, and returns
// its rows without the header row.
func exportRows(t testing.TB, resp *http.Response) [][]string {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	want := `attachment; filename=claims-` + time.Now().UTC().Format("2006-01-02") + `.csv`
	if cd := resp.Header.Get("Content-Disposition"); cd != want {
		t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	all, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || all[0][0] != "id" || all[0][len(all[0])-1] != "decision_reason" {
		t.Fatalf("no header row: %q", all)
	}
	return all[1:]
}

// exportError checks an export refused with the status and code.
func exportError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	var body struct {
		Errors []apitest.GQLError `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%d: not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != status || len(body.Errors) != 1 || body.Errors[0].Code() != code {
		t.Fatalf("got %d %+v; want %d %s", resp.StatusCode, body.Errors, status, code)
	}
}

func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

func eachServer(t *testing.T, fn func(t *testing.T, srv *apitest.Server)) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, apitest.NewServer(t, testkit.New(t, d))) })
	}
}

// A partner exports only its organisation's claims, a reviewer every
// claim; anonymous callers and users without an admin role are refused.
func TestExportAuthorisation(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *apitest.Server) {
		var total, fabrikam int64
		srv.World.DB.Model(&models.Claim{}).Count(&total)
		srv.World.DB.Model(&models.Claim{}).Where("organization_id = ?", demo.Fabrikam).Count(&fabrikam)

		rows := exportRows(t, exportGet(t, srv, "fiona", nil))
		if int64(len(rows)) != fabrikam || fabrikam == 0 {
			t.Errorf("fiona exported %d claims; Fabrikam has %d", len(rows), fabrikam)
		}
		for _, org := range column(rows, 5) {
			if org != "Fabrikam Solutions" {
				t.Errorf("fiona's export holds a claim of %q", org)
			}
		}
		if rows := exportRows(t, exportGet(t, srv, "rita", nil)); int64(len(rows)) != total {
			t.Errorf("rita exported %d claims of %d", len(rows), total)
		}
		// A customer admin exports its tenant's submitted claims.
		var northwind []string
		srv.World.DB.Model(&models.Claim{}).Where("customer_tenant_id = ? AND submitted_at IS NOT NULL", demo.Northwind).Pluck("id", &northwind)
		chloe := column(exportRows(t, exportGet(t, srv, "chloe", nil)), 6)
		if len(chloe) != len(northwind) || len(chloe) == 0 {
			t.Errorf("chloe exported %d claims; Northwind has %d submitted", len(chloe), len(northwind))
		}
		for _, tenant := range chloe {
			if tenant != demo.Northwind.String() {
				t.Errorf("chloe's export holds a claim of tenant %s", tenant)
			}
		}
		exportError(t, exportGet(t, srv, "", nil), http.StatusUnauthorized, "UNAUTHENTICATED")
		exportError(t, exportGet(t, srv, "carl", nil), http.StatusForbidden, "FORBIDDEN")
		req, _ := http.NewRequest(http.MethodGet, srv.URL+httpapi.ExportPath, nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		exportError(t, resp, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
}

func TestExportRefusesBadParameters(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *apitest.Server) {
		for _, q := range []url.Values{
			{"colour": {"red"}},
			{"status": {"LOST"}},
			{"solutionArea": {"AZURE"}},
			{"search": {"a\x00b"}},
			{"search": {strings.Repeat("x", 201)}},
			{"search": {"a", "b"}},
			{"submittedFrom": {"yesterday"}},
			{"decidedFrom": {"2025-03-02T00:00:00Z"}, "decidedTo": {"2025-03-01T00:00:00Z"}},
			{"orderBy": {"NAME"}},
			{"direction": {"UP"}},
			{"overdue": {"yes"}},
			{"organizationId": {"not-an-id"}},
		} {
			t.Run(q.Encode(), func(t *testing.T) {
				exportError(t, exportGet(t, srv, "rita", q), http.StatusBadRequest, "INVALID_INPUT")
			})
		}
	})
}

const claimsQuery = `query($filter: ClaimFilter, $orderBy: ClaimOrder, $after: String) {
  claims(filter: $filter, orderBy: $orderBy, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name status customerDomain submittedAt decidedAt updatedAt }
  }
}`

// queryIDs pages through the claims query and returns the claims' IDs.
func queryIDs(t *testing.T, c *apitest.Client, filter, orderBy map[string]any) []string {
	t.Helper()
	var ids []string
	var after any
	for {
		var data struct {
			Claims struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Nodes []struct{ ID string }
			}
		}
		c.MustDo(t, claimsQuery, map[string]any{"filter": filter, "orderBy": orderBy, "after": after}, &data)
		for _, n := range data.Claims.Nodes {
			ids = append(ids, n.ID)
		}
		if !data.Claims.PageInfo.HasNextPage {
			return ids
		}
		after = data.Claims.PageInfo.EndCursor
	}
}

// The export holds exactly the claims the claims query lists, in the same
// order, for the same filter given as URL parameters.
func TestExportMatchesTheClaimsQuery(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *apitest.Server) {
		mid := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		cases := []struct {
			filter, order map[string]any
			query         url.Values
		}{
			{nil, nil, url.Values{}},
			{map[string]any{"status": []string{"APPROVED", "REJECTED"}}, nil, url.Values{"status": {"APPROVED", "REJECTED"}}},
			{map[string]any{"search": "toys"}, nil, url.Values{"search": {"toys"}}},
			{map[string]any{"search": "CONTOSO", "activity": []string{"USAGE"}}, nil, url.Values{"search": {"CONTOSO"}, "activity": {"USAGE"}}},
			{map[string]any{"solutionArea": "MICROSOFT_365"}, map[string]any{"field": "UPDATED_AT", "direction": "ASC"},
				url.Values{"solutionArea": {"MICROSOFT_365"}, "orderBy": {"UPDATED_AT"}, "direction": {"ASC"}}},
			{map[string]any{"submitted": map[string]any{"to": mid}}, map[string]any{"field": "SUBMITTED_AT", "direction": "DESC"},
				url.Values{"submittedTo": {mid}, "orderBy": {"SUBMITTED_AT"}, "direction": {"DESC"}}},
			{nil, map[string]any{"field": "DECIDED_AT", "direction": "ASC"}, url.Values{"orderBy": {"DECIDED_AT"}, "direction": {"ASC"}}},
			{map[string]any{"organizationId": relay.UUIDGlobalID(relay.TypeOrganization, demo.Contoso), "overdue": false},
				nil, url.Values{"organizationId": {relay.UUIDGlobalID(relay.TypeOrganization, demo.Contoso)}, "overdue": {"false"}}},
		}
		// A customer admin too: the export follows whatever rule the list
		// follows (claims.Service.visible), and holds no @claimDetail field.
		for _, who := range []string{"rita", "ada", "chloe"} {
			c := srv.Client(t, who)
			for _, tc := range cases {
				want := queryIDs(t, c, tc.filter, tc.order)
				got := column(exportRows(t, exportGet(t, srv, who, tc.query)), 0)
				if !slices.Equal(got, want) {
					t.Errorf("%s %s: export %d claims %v, query %d %v", who, tc.query.Encode(), len(got), got, len(want), want)
				}
			}
		}
	})
}

// bulkClaims adds n rejected copies of a demo claim in one statement
// (generate_series on PostgreSQL, a recursive CTE on SQLite); every 7th is
// named like a formula.
func bulkClaims(t testing.TB, db *gorm.DB, n int) {
	t.Helper()
	var tmpl models.Claim
	if err := db.Where("organization_id = ? AND status = ?", demo.Fabrikam, models.Rejected).Take(&tmpl).Error; err != nil {
		t.Fatal(err)
	}
	var cols []string
	pg := storage.DialectOf(db) == storage.Postgres
	q := "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'claims' ORDER BY ordinal_position"
	if !pg {
		q = "SELECT name FROM pragma_table_info('claims') ORDER BY cid"
	}
	if err := db.Raw(q).Scan(&cols).Error; err != nil {
		t.Fatal(err)
	}
	id := "gen_random_uuid()"
	if !pg {
		id = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
			substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "id":
			exprs[i] = id
		case "name":
			exprs[i] = `CASE WHEN g % 7 = 0 THEN '=HYPERLINK("x",' || g || ')' ELSE 'bulk claim ' || g END`
		default:
			exprs[i] = "claims." + c
		}
	}
	series, from := "", "claims, generate_series(1, ?) AS s(g)"
	if !pg {
		series, from = "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?) ", "claims, s"
	}
	sql := series + "INSERT INTO claims (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(exprs, ", ") +
		" FROM " + from + " WHERE claims.id = ?"
	if err := db.Exec(sql, n, tmpl.ID).Error; err != nil {
		t.Fatal(err)
	}
}

// heapPeak samples the heap until stop is closed and reports its largest
// growth over base: of HeapAlloc (everything allocated and not yet freed,
// garbage included) and of the live heap the last GC found
// (/gc/heap/live:bytes, what is retained).
func heapPeak(base heapSample, stop <-chan struct{}) <-chan heapSample {
	out := make(chan heapSample, 1)
	go func() {
		var peak heapSample
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			now := sampleHeap()
			peak.alloc = max(peak.alloc, now.alloc-min(now.alloc, base.alloc))
			peak.live = max(peak.live, now.live-min(now.live, base.live))
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

type heapSample struct{ alloc, live uint64 }

func sampleHeap() heapSample {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	return heapSample{alloc: m.HeapAlloc, live: live[0].Value.Uint64()}
}

// exportMeasured streams the whole export as rita, reading slowly, and
// returns its rows, the peak heap growth and the time it took.
//
// The GC percent is 50 while it runs: at the default 100 the heap may hold
// as much garbage as the whole test process keeps alive (the world, the
// schema) before a collection, and HeapAlloc would measure that, not the
// export. Retaining the rows (about 35 MB for 100,000 claims) exceeds the
// bound either way.
func exportMeasured(t testing.TB, srv *apitest.Server, readDelay time.Duration) (rows int, peak heapSample, elapsed time.Duration) {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	runtime.GC()
	stop := make(chan struct{})
	peakc := heapPeak(sampleHeap(), stop)
	start := time.Now()
	resp := exportGet(t, srv, "rita", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	r := csv.NewReader(&slowReader{r: resp.Body, delay: readDelay})
	r.ReuseRecord = true
	var formulas atomic.Int64
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		if strings.HasPrefix(rec[1], "=") {
			formulas.Add(1)
		}
		rows++
	}
	elapsed = time.Since(start)
	close(stop)
	if formulas.Load() > 0 {
		t.Errorf("%d names start with = unneutralised", formulas.Load())
	}
	return rows - 1, <-peakc, elapsed
}

// slowReader reads like a slow client: a pause before each read.
type slowReader struct {
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// The export streams: 100,000 claims grow the heap by less than 16 MiB,
// read by a client slow enough that the server waits on it. On SQLite it
// runs without -race only (see raceDetector); PostgreSQL always.
func TestExport100kClaimsInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk export")
	}
	const n = 100_000
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			if d == storage.SQLite && raceDetector {
				t.Skip("inserting 100,000 claims into SQLite under -race takes minutes; run without -race")
			}
			w := testkit.New(t, d)
			srv := apitest.NewServer(t, w)
			bulkClaims(t, w.DB, n)
			rows, peak, elapsed := exportMeasured(t, srv, 200*time.Microsecond)
			if rows < n {
				t.Fatalf("exported %d rows; want at least %d", rows, n)
			}
			t.Logf("%s: %d rows in %v (%.0f rows/s), peak growth: HeapAlloc %.1f MiB, live heap %.1f MiB", d, rows, elapsed,
				float64(rows)/elapsed.Seconds(), mib(peak.alloc), mib(peak.live))
			if peak.alloc >= 16<<20 || peak.live >= 16<<20 {
				t.Errorf("heap grew by %.1f MiB (live %.1f MiB) during the export; want under 16 MiB", mib(peak.alloc), mib(peak.live))
			}
		})
	}
}

// BenchmarkExport measures the export's rows per second and peak heap
// growth over 100,000 claims, read as fast as the client can:
//
//	go test ./httpapi -run '^$' -bench BenchmarkExport -benchtime 3x
func BenchmarkExport(b *testing.B) {
	if testing.Short() {
		b.Skip("bulk export")
	}
	const n = 100_000
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			w := testkit.New(b, d)
			srv := apitest.NewServer(b, w)
			bulkClaims(b, w.DB, n)
			var peak heapSample
			var rows int
			var spent time.Duration
			b.ResetTimer()
			for range b.N {
				r, p, elapsed := exportMeasured(b, srv, 0)
				rows, spent = rows+r, spent+elapsed
				peak.alloc, peak.live = max(peak.alloc, p.alloc), max(peak.live, p.live)
			}
			b.ReportMetric(float64(rows)/spent.Seconds(), "rows/s")
			b.ReportMetric(mib(peak.alloc), "peak-heapalloc-MiB")
			b.ReportMetric(mib(peak.live), "peak-live-MiB")
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// An export is one SQL statement, whatever it holds, and follows the
// server's access log like any request.
func TestExportIsOneStatement(t *testing.T) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			w := testkit.New(t, d)
			var logs syncLog
			srv := apitest.NewServerLogging(t, w, nil, slog.New(reqlog.Handler(slog.NewJSONHandler(&logs, nil))))
			req, _ := http.NewRequest(http.MethodGet, srv.URL+httpapi.ExportPath+"?search=toys&orderBy=DECIDED_AT", nil)
			req.Header.Set("Authorization", "Bearer "+apitest.Token(t, "rita"))
			req.Header.Set("X-Request-ID", "export-statements")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if rows := exportRows(t, resp); len(rows) == 0 {
				t.Fatal("the search found nothing")
			}
			resp.Body.Close()
			for _, line := range strings.Split(logs.String(), "\n") {
				var entry struct {
					RequestID  string `json:"request_id"`
					Msg        string `json:"msg"`
					Statements int64  `json:"sql_statements"`
				}
				if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request" && entry.RequestID == "export-statements" {
					if entry.Statements != 1 {
						t.Errorf("the export sent %d SQL statements, want 1", entry.Statements)
					}
					return
				}
			}
			t.Fatal("no access log line for the export")
		})
	}
}

// When the database fails mid-stream, the response is aborted: the client
// sees a broken transfer, never a clean end of a short file.
func TestExportAbortsOnAnErrorMidStream(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	srv := apitest.NewServer(t, w)
	// More rows than the socket buffers hold, so the backend is still
	// sending when it is stopped.
	bulkClaims(t, w.DB, 30_000)
	resp := exportGet(t, srv, "rita", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	var stopped []bool
	err := w.DB.Raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE '%export_org%' AND pid <> pg_backend_pid()`).Scan(&stopped).Error
	if err != nil || len(stopped) != 1 {
		t.Fatalf("stop the export's backend: %v %v", stopped, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Fatal("the export ended cleanly after its database connection failed")
	}
}

// A claim's name goes in with createClaim and updateClaim, comes out on
// Claim.name, and a name that is not one line is a userError on name.
func TestClaimNameOverGraphQL(t *testing.T) {
	srv := apitest.NewServer(t, testkit.New(t, storage.SQLite))
	ada := srv.Client(t, "ada")
	var created struct {
		CreateClaim struct {
			Claim struct{ ID, Name string }
		}
	}
	ada.MustDo(t, `mutation($name: String) { createClaim(input: {solutionArea: BUSINESS_APPLICATIONS, activity: USAGE,
		customerTenantId: "`+woodgroveTenant+`", customerDomain: "`+woodgroveDomain+`", name: $name}) { claim { id name } } }`,
		map[string]any{"name": "  =Woodgrove renewal "}, &created)
	if created.CreateClaim.Claim.Name != "=Woodgrove renewal" {
		t.Fatalf("created name %q", created.CreateClaim.Claim.Name)
	}
	var updated struct {
		UpdateClaim struct {
			Claim      *struct{ Name string }
			UserErrors []struct {
				Code  string
				Field []string
			}
		}
	}
	ada.MustDo(t, `mutation($id: ID!, $name: String) { updateClaim(input: {claimId: $id, name: $name}) { claim { name } userErrors { code field } } }`,
		map[string]any{"id": created.CreateClaim.Claim.ID, "name": "two\nlines"}, &updated)
	if updated.UpdateClaim.Claim != nil || len(updated.UpdateClaim.UserErrors) != 1 || !slices.Equal(updated.UpdateClaim.UserErrors[0].Field, []string{"input", "name"}) {
		t.Fatalf("a two-line name: %+v", updated.UpdateClaim)
	}
	rows := exportRows(t, exportGet(t, srv, "ada", url.Values{"search": {created.CreateClaim.Claim.ID}}))
	if len(rows) != 1 || rows[0][1] != "'=Woodgrove renewal" {
		t.Fatalf("the export of the named claim: %q", rows)
	}
}

// BenchmarkClaimSearch times one page of 20 searched claims among 100,000
// (all copies of one Fabrikam claim on one tenant, so a tenant or
// organisation name matches them all) for a search that matches one claim,
// none, and all of them:
//
//	go test ./httpapi -run '^$' -bench BenchmarkClaimSearch
func BenchmarkClaimSearch(b *testing.B) {
	if testing.Short() {
		b.Skip("bulk claims")
	}
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			w := testkit.New(b, d)
			bulkClaims(b, w.DB, 100_000)
			if d == storage.Postgres {
				w.DB.Exec("ANALYZE")
			}
			for _, s := range []struct{ name, text string }{{"one", "bulk claim 4242"}, {"none", "zzzz"}, {"all", "fabrikam"}} {
				b.Run(s.name, func(b *testing.B) {
					n := 20
					for b.Loop() {
						if _, err := w.Claims.List(testkit.As("rita"), claims.Filter{Search: s.text}, claims.Order{Desc: true}, relay.Args{First: &n}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// Exports beyond MaxExports are refused with 429 and Retry-After while the
// others run, and taken again once one ends.
func TestExportsAreBoundedPerInstance(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) { c.MaxExports = 1 })
	// Enough rows that the first export is still streaming while the
	// client holds it.
	bulkClaims(t, w.DB, 30_000)
	first := exportGet(t, srv, "rita", nil)
	if _, err := io.ReadFull(first.Body, make([]byte, 4<<10)); err != nil {
		t.Fatal(err)
	}
	second := exportGet(t, srv, "rita", nil)
	if second.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	exportError(t, second, http.StatusTooManyRequests, "RATE_LIMITED")
	if _, err := io.Copy(io.Discard, first.Body); err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	// The slot is given back when the handler returns, just after the body ends.
	deadline := time.Now().Add(5 * time.Second)
	for {
		again := exportGet(t, srv, "fiona", nil)
		if again.StatusCode == http.StatusOK || time.Now().After(deadline) {
			exportRows(t, again)
			return
		}
		again.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
}
