// Command wsbench measures live subscriptions: it starts the server as its
// own process, holds N websocket subscribers on it, reads the server's
// memory with them idle, then commits status changes and measures the
// commit-to-delivery latency of each event at every subscriber.
//
//	go run ./bench/wsbench -n 1000,10000 -events 20
//
// The latency of an event at a subscriber is its receipt time minus the
// event's own timestamp (taken in the committing transaction, just before
// COMMIT), so it slightly over-states the true commit-to-delivery time.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"cpor/auth"
	"cpor/bench/benchkit"
	"cpor/demo"
)

const secret = "wsbench-secret-of-at-least-32-bytes!!"

var (
	profileDir string
	shapes     int
	distinct   bool
)

func main() {
	counts := flag.String("n", "1000,10000", "comma-separated subscriber counts")
	events := flag.Int("events", 20, "status events per run")
	gap := flag.Duration("gap", 2*time.Second, "pause between events, long enough that one broadcast ends before the next begins")
	databaseURL := flag.String("database-url", "", "PostgreSQL URL for the server (default: embedded SQLite)")
	flag.StringVar(&profileDir, "profile", "", "write the server's heap and goroutine profiles, taken while idle, to this directory")
	flag.IntVar(&shapes, "shapes", 1, "distinct subscription documents among the subscribers (the server renders an event once per document and viewer access; 0 means one per subscriber)")
	flag.BoolVar(&distinct, "distinct", false, "give every shape a selection of its own (an alias), not only a name: the worst case, one rendering per shape")
	flag.Parse()
	raiseFileLimit()
	for _, c := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("bad -n %q", c))
		}
		res, err := run(n, *events, *gap, *databaseURL)
		if err != nil {
			fail(err)
		}
		res.print()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wsbench:", err)
	os.Exit(1)
}

type result struct {
	n, shapes, events, delivered, expected int
	connect                                time.Duration
	p50, p99, max                          time.Duration
	broadcastP50, broadcastMax             time.Duration
	rssPerSub, goPerSub                    float64
	rssBase, rssIdle                       float64
	// cpuPerDelivery is the server's CPU time (process_cpu_seconds_total)
	// while events were delivered, per delivery: steadier than latency on
	// a machine shared with other work.
	cpuPerDelivery time.Duration
}

func (r result) print() {
	fmt.Printf("distinct=%t subscribers=%d shapes=%d events=%d delivered=%d/%d connect=%s\n", distinct, r.n, r.shapes, r.events, r.delivered, r.expected, r.connect.Round(time.Millisecond))
	fmt.Printf("  commit-to-delivery  p50=%s p99=%s max=%s\n", r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.max.Round(100*time.Microsecond))
	fmt.Printf("  broadcast complete  p50=%s max=%s (last subscriber of an event)\n", r.broadcastP50.Round(100*time.Microsecond), r.broadcastMax.Round(100*time.Microsecond))
	fmt.Printf("  server CPU per delivery %s (producer's requests included)\n", r.cpuPerDelivery.Round(100*time.Nanosecond))
	fmt.Printf("  server memory per idle subscriber: RSS %.1f KiB, Go heap+stacks %.1f KiB (RSS %.0f MiB → %.0f MiB)\n",
		r.rssPerSub/1024, r.goPerSub/1024, r.rssBase/(1<<20), r.rssIdle/(1<<20))
}

func run(n, events int, gap time.Duration, databaseURL string) (result, error) {
	res := result{n: n, shapes: shapes, events: events, expected: n * events}
	if shapes <= 0 || shapes > n {
		res.shapes = n
	}
	dir, err := os.MkdirTemp("", "wsbench")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "cpor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return res, fmt.Errorf("build server: %v\n%s", err, out)
	}
	port, err := benchkit.FreePort()
	if err != nil {
		return res, err
	}
	adminPort, err := benchkit.FreePort()
	if err != nil {
		return res, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	admin := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	// Budgets off: one reviewer holds every subscriber, which no budget
	// meant for one person allows.
	env := append(os.Environ(), "CPOR_DATA_DIR="+dir, "CPOR_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"CPOR_ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(adminPort), "CPOR_PPROF=true", "CPOR_BUDGET=off", "CPOR_ANONYMOUS_BUDGET=off",
		"CPOR_JWT_SECRET="+secret, "CPOR_LOG_LEVEL=warn", "CPOR_DB_MAX_CONNS=10")
	if databaseURL != "" {
		env = append(env, "DATABASE_URL="+databaseURL)
		seed := exec.Command(bin, "seed")
		seed.Env = env
		if out, err := seed.CombinedOutput(); err != nil {
			return res, fmt.Errorf("seed: %v\n%s", err, out)
		}
	}
	srv := exec.Command(bin)
	srv.Env = env
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return res, err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	if err := benchkit.WaitReady(base, time.Minute); err != nil {
		return res, err
	}

	reviewer := token("rita")
	time.Sleep(500 * time.Millisecond)
	m0, err := benchkit.Scrape(admin)
	if err != nil {
		return res, err
	}
	res.rssBase = m0["process_resident_memory_bytes"]

	start := time.Now()
	subs, err := connectAll(base, reviewer, n, res.shapes)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, s := range subs {
			_ = s.conn.CloseNow()
		}
	}()
	if err := waitMetric(admin, "cpor_live_subscribers", float64(n)); err != nil {
		return res, err
	}
	res.connect = time.Since(start)
	time.Sleep(3 * time.Second) // let the idle state settle
	m1, err := benchkit.Scrape(admin)
	if err != nil {
		return res, err
	}
	res.rssIdle = m1["process_resident_memory_bytes"]
	if profileDir != "" {
		for _, p := range []string{"heap", "goroutine"} {
			if err := benchkit.Fetch(admin+"/debug/pprof/"+p, filepath.Join(profileDir, fmt.Sprintf("%s-%d.prof", p, n))); err != nil {
				return res, err
			}
		}
	}
	res.rssPerSub = (m1["process_resident_memory_bytes"] - m0["process_resident_memory_bytes"]) / float64(n)
	goMem := func(m map[string]float64) float64 {
		return m["go_memstats_heap_inuse_bytes"] + m["go_memstats_stack_inuse_bytes"]
	}
	res.goPerSub = (goMem(m1) - goMem(m0)) / float64(n)

	producer := &producer{base: base, partner: token("ada"), operator: token("oscar")}
	cpu := startCPUProfile(admin, time.Duration(events)*gap, n)
	defer func() {
		if err := <-cpu; err != nil {
			fmt.Fprintln(os.Stderr, "wsbench: cpu profile:", err)
		}
	}()
	for i := range events {
		if err := producer.submitFresh(fmt.Sprintf("bench-%d-%d-%s", n, i, uuid.NewString()[:8])); err != nil {
			return res, err
		}
		time.Sleep(gap)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		total := 0
		for _, s := range subs {
			total += int(s.count.Load())
		}
		if total >= res.expected {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	m2, err := benchkit.Scrape(admin)
	if err != nil {
		return res, err
	}
	var all []time.Duration
	lastBySeq := map[string]time.Duration{}
	for _, s := range subs {
		for _, r := range s.results() {
			all = append(all, r.latency)
			if r.latency > lastBySeq[r.cursor] {
				lastBySeq[r.cursor] = r.latency
			}
		}
	}
	res.delivered = len(all)
	if len(all) == 0 {
		return res, errors.New("no event delivered")
	}
	cpuSeconds := m2["process_cpu_seconds_total"] - m1["process_cpu_seconds_total"]
	res.cpuPerDelivery = time.Duration(cpuSeconds / float64(len(all)) * float64(time.Second))
	slices.Sort(all)
	res.p50, res.p99, res.max = pct(all, 0.50), pct(all, 0.99), all[len(all)-1]
	var lasts []time.Duration
	for _, d := range lastBySeq {
		lasts = append(lasts, d)
	}
	slices.Sort(lasts)
	if os.Getenv("WSBENCH_VERBOSE") != "" {
		fmt.Println("  per-event broadcast completion:", lasts)
		fmt.Printf("  goroutines %v → %v\n", m0["go_goroutines"], m1["go_goroutines"])
		for _, k := range []string{"go_memstats_stack_inuse_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes"} {
			fmt.Printf("  %s: %.1f KiB per subscriber\n", k, (m1[k]-m0[k])/float64(n)/1024)
		}
	}
	res.broadcastP50, res.broadcastMax = pct(lasts, 0.5), lasts[len(lasts)-1]
	return res, nil
}

// startCPUProfile profiles the server while it delivers the events (with
// -profile), where the idle heap profile says nothing about rendering cost.
func startCPUProfile(admin string, d time.Duration, n int) <-chan error {
	done := make(chan error, 1)
	if profileDir == "" {
		done <- nil
		return done
	}
	secs := max(1, int(d.Seconds()))
	go func() {
		done <- benchkit.Fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", admin, secs), filepath.Join(profileDir, fmt.Sprintf("cpu-%d.prof", n)))
	}()
	return done
}

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

type received struct {
	cursor  string
	latency time.Duration
}

type subscriber struct {
	conn  *websocket.Conn
	mu    sync.Mutex
	raw   []rawEvent
	count atomic.Int64
}

// subscription is the document subscriber i sends: the same selection for
// all, named after one of the run's shapes. The server renders once per
// selection, whatever the name, so with -distinct each shape also selects
// the status under an alias of its own: a selection, and a rendering, per
// shape.
func subscription(i, shapes int) string {
	extra := ""
	if distinct {
		extra = fmt.Sprintf(" s%d: status", i%shapes)
	}
	return fmt.Sprintf("subscription Shape%d { claimStatusChanged { cursor status at%s claim { id status organization { name } } } }", i%shapes, extra)
}

func connectAll(base, tok string, n, shapes int) ([]*subscriber, error) {
	subs := make([]*subscriber, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := subscribe(base, tok, strconv.Itoa(i), subscription(i, shapes))
			if err != nil {
				errs <- err
				return
			}
			subs[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return subs, nil
}

func subscribe(base, tok, id, query string) (*subscriber, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	write := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := write(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + tok}}); err != nil {
		return nil, err
	}
	if _, _, err := c.Read(ctx); err != nil {
		return nil, fmt.Errorf("connection_ack: %w", err)
	}
	if err := write(map[string]any{"type": "subscribe", "id": id, "payload": map[string]string{"query": query}}); err != nil {
		return nil, err
	}
	s := &subscriber{conn: c}
	go s.read()
	return s, nil
}

// read records each event's receipt time and raw fields; parsing waits
// until the run is over, so the load generator, which shares the machine's
// two cores with the server, does as little as it can while events flow.
func (s *subscriber) read() {
	buf := make([]byte, 0, 1024)
	for {
		_, r, err := s.conn.Reader(context.Background())
		if err != nil {
			return
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				break
			}
		}
		now := time.Now()
		if !bytes.Contains(buf, []byte(`"type":"next"`)) {
			s.answerPing(buf)
			continue
		}
		s.mu.Lock()
		s.raw = append(s.raw, rawEvent{at: field(buf, `"at":"`), cursor: field(buf, `"cursor":"`), received: now})
		s.mu.Unlock()
		s.count.Add(1)
	}
}

// answerPing answers the server's keep-alive: a connection silent for 50 s
// is closed, which a long run (a slow connect, then 40 s of events) would
// otherwise reach, losing the last events of the first subscribers.
func (s *subscriber) answerPing(msg []byte) {
	if !bytes.Contains(msg, []byte(`"type":"ping"`)) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
}

type rawEvent struct {
	at, cursor string
	received   time.Time
}

// results parses what read recorded.
func (s *subscriber) results() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]received, 0, len(s.raw))
	for _, e := range s.raw {
		if t, err := time.Parse(time.RFC3339Nano, e.at); err == nil && e.cursor != "" {
			out = append(out, received{cursor: e.cursor, latency: e.received.Sub(t)})
		}
	}
	return out
}

// field returns the JSON string value that follows key in b.
func field(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// producer commits status changes through the API: each fresh claim's
// submission is one status event that every reviewer subscriber receives.
type producer struct {
	base, partner, operator string
	product, mpn            string
}

func (p *producer) submitFresh(name string) error {
	if p.product == "" {
		var out struct {
			Products []struct{ ID, Code string }
			Mpns     []struct {
				ID       string
				Enrolled bool
			}
		}
		if err := p.do(p.partner, `{ products(solutionArea: BUSINESS_APPLICATIONS) { id code } mpns { id enrolled } }`, nil, &out); err != nil {
			return err
		}
		for _, pr := range out.Products {
			if pr.Code == "D365_SALES" {
				p.product = pr.ID
			}
		}
		for _, m := range out.Mpns {
			if m.Enrolled {
				p.mpn = m.ID
				break
			}
		}
	}
	tenant, sub := uuid.NewString(), uuid.NewString()
	domain := strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ".onmicrosoft.com"
	if err := p.do(p.operator, `mutation ($t: String!, $d: String!) { upsertCustomerTenant(input: {tenantId: $t, displayName: "bench", domains: [$d]}) { userErrors { message } } }`,
		map[string]any{"t": tenant, "d": domain}, nil); err != nil {
		return err
	}
	if err := p.do(p.operator, `mutation ($s: String!, $t: String!, $p: ID!) { upsertSubscription(input: {subscriptionId: $s, tenantId: $t, productId: $p, channel: WEB_DIRECT, provisioningState: PROVISIONED, status: ACTIVE, startsAt: "2026-01-01T00:00:00Z"}) { userErrors { message } } }`,
		map[string]any{"s": sub, "t": tenant, "p": p.product}, nil); err != nil {
		return err
	}
	var created struct {
		CreateClaim struct {
			Claim      *struct{ ID string }
			UserErrors []struct{ Message string }
		}
	}
	if err := p.do(p.partner, `mutation ($t: String!, $d: String!, $s: String!, $p: ID!, $m: ID!) { createClaim(input: {solutionArea: BUSINESS_APPLICATIONS, activity: USAGE, customerTenantId: $t, customerDomain: $d, subscriptionId: $s, productId: $p, mpnId: $m, customerContact: {name: "Dana", title: "CIO", email: "dana@example.com"}, partnerContact: {name: "Sam", email: "sam@example.com"}}) { claim { id } userErrors { message } } }`,
		map[string]any{"t": tenant, "d": domain, "s": sub, "p": p.product, "m": p.mpn}, &created); err != nil {
		return err
	}
	if created.CreateClaim.Claim == nil {
		return fmt.Errorf("create claim: %v", created.CreateClaim.UserErrors)
	}
	id := created.CreateClaim.Claim.ID
	if err := p.upload(id); err != nil {
		return err
	}
	var submitted struct {
		SubmitClaim struct{ UserErrors []struct{ Message string } }
	}
	if err := p.do(p.partner, `mutation ($id: ID!) { submitClaim(input: {claimId: $id}) { userErrors { message } } }`, map[string]any{"id": id}, &submitted); err != nil {
		return err
	}
	if len(submitted.SubmitClaim.UserErrors) > 0 {
		return fmt.Errorf("submit: %v", submitted.SubmitClaim.UserErrors)
	}
	return nil
}

func (p *producer) do(tok, query string, vars map[string]any, into any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return send(req, into)
}

func (p *producer) upload(claimID string) error {
	var buf bytes.Buffer
	boundary := "wsbenchboundary"
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation ($f: Upload!, $id: ID!) { attachProofOfExecution(input: {claimId: $id, file: $f}) { userErrors { message } } }`,
		"variables": map[string]any{"f": nil, "id": claimID},
	})
	fmt.Fprintf(&buf, "--%s\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n%s\r\n", boundary, ops)
	fmt.Fprintf(&buf, "--%s\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n", boundary)
	fmt.Fprintf(&buf, "--%s\r\nContent-Disposition: form-data; name=\"0\"; filename=\"proof.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%%PDF-1.4 proof\r\n--%s--\r\n", boundary, boundary)
	req, _ := http.NewRequest(http.MethodPost, p.base+"/graphql", &buf)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+p.partner)
	return send(req, nil)
}

func send(req *http.Request, into any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		return fmt.Errorf("graphql (HTTP %d): %s", resp.StatusCode, raw)
	}
	if into != nil {
		return json.Unmarshal(out.Data, into)
	}
	return nil
}

func token(handle string) string {
	u, _ := demo.FindUser(handle)
	tok, err := auth.Mint([]byte(secret), u.Identity, "cpor", "", 2*time.Hour)
	if err != nil {
		fail(err)
	}
	return tok
}

func waitMetric(admin, name string, want float64) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		m, err := benchkit.Scrape(admin)
		if err == nil && m[name] >= want {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s never reached %v", name, want)
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	_ = runtime.GOMAXPROCS(0)
}
