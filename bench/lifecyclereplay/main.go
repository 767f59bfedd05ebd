// Command lifecyclereplay measures how close the service comes to the
// database: it captures the SQL one claim lifecycle over HTTP sends
// (createClaim, attachProofOfExecution with a PDF, submitClaim, startReview,
// approveClaim), writes it as a pgbench script that replays it with fresh
// IDs and a fresh customer tenant and subscription per lifecycle, runs
// pgbench with prepared statements at each concurrency, then drives the
// same lifecycle over HTTP against the service (in this process, on its own
// connection pool) at the same concurrency, and prints lifecycles per
// second of both and their ratio.
//
//	go run ./bench/lifecyclereplay -url postgres://postgres@127.0.0.1:5432/postgres -clients 8,32 -duration 20s
//
// It works in a database of its own, created on the server and dropped at
// the end. pgbench must be on the PATH.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/bench/benchkit"
	"cpor/claims"
	"cpor/demo"
	"cpor/httpapi"
	"cpor/live"
	"cpor/models"
	"cpor/relay"
	"cpor/sla"
	"cpor/storage"
	"cpor/wiring"
	"cpor/workflow"
)

type options struct {
	url      string
	clients  []int
	duration time.Duration
	script   string
	targets  int
	conns    int
	profile  string
	live     bool
}

func main() {
	var o options
	var clients string
	flag.StringVar(&o.url, "url", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server URL (a database is created on it and dropped)")
	flag.StringVar(&clients, "clients", "8,32", "concurrent lifecycles, comma-separated")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long each run lasts")
	flag.StringVar(&o.script, "script", "", "also write the pgbench script to this file")
	flag.IntVar(&o.targets, "targets", 40000, "fresh customer tenants made for each side (replay, service)")
	flag.IntVar(&o.conns, "conns", 20, "the service's connection pool size (CPOR_DB_MAX_CONNS)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the service runs (client included) to this file")
	flag.BoolVar(&o.live, "live", true, "run the live-event hub and listener as the server does (false: to see what they cost)")
	flag.Parse()
	for _, c := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-clients: %q is not a number of clients", c))
		}
		o.clients = append(o.clients, n)
	}
	if o.url == "" {
		fatal(errors.New("-url (or TEST_DATABASE_URL) must name a PostgreSQL server"))
	}
	if err := run(context.Background(), o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "lifecyclereplay:", err)
	os.Exit(1)
}

func run(ctx context.Context, o options) error {
	dbURL, drop, err := benchkit.FreshDatabase(ctx, o.url, "cpor_replay")
	if err != nil {
		return err
	}
	defer drop()
	env, err := start(ctx, dbURL, o.conns, o.live)
	if err != nil {
		return err
	}
	if err := makeTargets(ctx, env.db, 2*o.targets); err != nil {
		env.stop()
		return err
	}
	sent, vars, err := env.capture(ctx)
	env.stop()
	if err != nil {
		return err
	}
	text, err := script(sent, vars, scriptHeader(vars))
	if err != nil {
		return err
	}
	fmt.Printf("one lifecycle sends %d statements (BEGIN and COMMIT included)\n", len(sent))
	file, err := writeScript(o.script, text)
	if err != nil {
		return err
	}
	// The replay runs with the service stopped: its event hub, which reads
	// the events of every commit, is the service's work, not the statements'.
	replay := map[int]float64{}
	for _, c := range o.clients {
		if replay[c], err = pgbench(ctx, dbURL, file, c, o.duration); err != nil {
			return err
		}
	}
	if env, err = start(ctx, dbURL, o.conns, o.live); err != nil {
		return err
	}
	defer env.stop()
	serviceTargets, err := loadTargets(ctx, env.db, o.targets)
	if err != nil {
		return err
	}
	serviceTargets = serviceTargets[2:] // the capture's
	fmt.Printf("%8s %18s %18s %7s\n", "clients", "replay lifecycles/s", "service lifecycles/s", "ratio")
	for _, c := range o.clients {
		stopProfile, err := startProfile(o.profile, c)
		if err != nil {
			return err
		}
		var service float64
		service, serviceTargets, err = env.drive(c, o.duration, serviceTargets)
		stopProfile()
		if err != nil {
			return err
		}
		fmt.Printf("%8d %18.1f %18.1f %7.2f\n", c, replay[c], service, service/replay[c])
	}
	return nil
}

// startProfile profiles the CPU into path (suffixed with the number of
// clients) until the returned function is called; nothing when path is empty.
func startProfile(path string, clients int) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, clients))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// env is the service over its own database, served on a loopback port.
type env struct {
	db        *gorm.DB
	rec       *recorder
	capturing atomic.Bool
	srv       *http.Server
	cancel    context.CancelFunc
	partner   *client
	reviewer  *client
	product   string // global IDs for the claim form
	mpn       string
}

func start(ctx context.Context, dbURL string, conns int, withLive bool) (*env, error) {
	quiet := slog.New(slog.DiscardHandler)
	db, err := storage.Open(ctx, storage.Config{DatabaseURL: dbURL, MaxOpenConns: conns}, quiet)
	if err != nil {
		return nil, err
	}
	if err := storage.Migrate(ctx, db, quiet); err != nil {
		return nil, err
	}
	e := &env{db: db, rec: &recorder{ConnPool: db.Statement.ConnPool}}
	db.Statement.ConnPool, db.ConnPool = e.rec, e.rec
	hub := live.NewHub(db, live.DefaultConfig, quiet)
	svc := wiring.New(db, hub, sla.NewCalendar(), claims.DefaultDocumentLimits, workflow.Config{}, wiring.Notifications{})
	liveCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	if withLive {
		go func() { _ = hub.Run(liveCtx) }()
		go live.Listen(liveCtx, dbURL, hub, quiet)
	}
	if err := demo.Seed(ctx, db, demo.Services{Catalog: svc.Catalog, Claims: svc.Claims, Workflow: svc.Workflow, People: svc.People}); err != nil {
		return nil, err
	}
	if err := e.serve(ctx, svc); err != nil {
		return nil, err
	}
	return e, e.formIDs()
}

var secret = []byte("lifecyclereplay-secret-of-32-bytes-or-more")

// serve starts the HTTP API as the server runs it (access log at info,
// written nowhere), without budgets, which a benchmark's two users spend.
func (e *env) serve(ctx context.Context, svc wiring.Services) error {
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{HS256Secret: secret, Issuer: "cpor"})
	if err != nil {
		return err
	}
	cfg := httpapi.DefaultConfig()
	cfg.Budget, cfg.AnonymousBudget = httpapi.Config{}.Budget, httpapi.Config{}.AnonymousBudget
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	api := httpapi.New(cfg, httpapi.Deps{DB: e.db, Verifier: v, Services: svc, Log: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.capturing.Load() {
			r = r.WithContext(record(r.Context()))
		}
		api.ServeHTTP(w, r)
	})}
	go func() { _ = e.srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	for _, who := range []struct {
		c      **client
		handle string
	}{{&e.partner, "ada"}, {&e.reviewer, "rita"}} {
		u, _ := demo.FindUser(who.handle)
		tok, err := auth.Mint(secret, u.Identity, "cpor", "", 24*time.Hour)
		if err != nil {
			return err
		}
		*who.c = &client{http: hc, url: base, token: tok}
	}
	return nil
}

// formIDs finds the Dynamics 365 Sales product and an enrolled MPN of the
// partner, as the claim form offers them.
func (e *env) formIDs() error {
	var p models.Product
	if err := e.db.Where("code = ?", "D365_SALES").Take(&p).Error; err != nil {
		return fmt.Errorf("product: %w", err)
	}
	u, _ := demo.FindUser("ada")
	var m models.Mpn
	if err := e.db.Where("organization_id = ? AND enrolled_at IS NOT NULL", u.Identity.OrganizationID).
		Order("partner_location_id").Take(&m).Error; err != nil {
		return fmt.Errorf("MPN: %w", err)
	}
	e.product, e.mpn = relay.UUIDGlobalID(relay.TypeProduct, p.ID), relay.UUIDGlobalID(relay.TypeMpn, m.ID)
	return nil
}

func (e *env) stop() {
	_ = e.srv.Close()
	e.cancel()
	_ = storage.Close(e.db)
}

// makeTargets creates n fresh customer tenants, each with its initial domain
// and an active, provisioned Dynamics 365 Sales subscription, numbered in
// bench_targets: the replay takes them in order from 1 (bench_target_seq),
// the service from the top.
func makeTargets(ctx context.Context, db *gorm.DB, n int) error {
	const sql = `
CREATE TABLE bench_targets (n bigint PRIMARY KEY, tenant uuid NOT NULL, subscription uuid NOT NULL, domain text NOT NULL);
CREATE SEQUENCE bench_target_seq;
INSERT INTO bench_targets SELECT i, gen_random_uuid(), gen_random_uuid(), 'replay' || i || '.onmicrosoft.com' FROM generate_series(1, @n) i;
INSERT INTO customer_tenants (id, display_name, created_at, updated_at) SELECT tenant, 'replay' || n, now(), now() FROM bench_targets;
INSERT INTO tenant_domains (domain, tenant_id, is_initial) SELECT domain, tenant, true FROM bench_targets;
INSERT INTO subscriptions (id, tenant_id, product_id, channel, provisioning_state, status, starts_at, created_at, updated_at)
	SELECT subscription, tenant, (SELECT id FROM products WHERE code = 'D365_SALES'), 'WEB_DIRECT', 'PROVISIONED', 'ACTIVE',
		now() - interval '1 month', now(), now() FROM bench_targets;
ANALYZE;`
	for _, stmt := range strings.Split(strings.ReplaceAll(sql, "@n", strconv.Itoa(n)), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if err := db.WithContext(ctx).Exec(stmt).Error; err != nil {
			return fmt.Errorf("make targets: %w", err)
		}
	}
	return nil
}

// loadTargets returns the top n targets, for the service.
func loadTargets(ctx context.Context, db *gorm.DB, n int) ([]target, error) {
	var rows []struct {
		Tenant, Subscription uuid.UUID
		Domain               string
	}
	if err := db.WithContext(ctx).Table("bench_targets").Order("n DESC").Limit(n).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load targets: %w", err)
	}
	out := make([]target, len(rows))
	for i, r := range rows {
		out[i] = target{r.Tenant.String(), r.Subscription.String(), r.Domain}
	}
	return out, nil
}

// capture runs a lifecycle to warm up, then one whose statements it records,
// on the top two targets, and names the values fresh in each lifecycle.
func (e *env) capture(ctx context.Context) ([]statement, fresh, error) {
	tops, err := loadTargets(ctx, e.db, 2)
	if err != nil {
		return nil, nil, err
	}
	if _, err := lifecycle(e.partner, e.reviewer, e.product, e.mpn, tops[0]); err != nil {
		return nil, nil, fmt.Errorf("warm-up lifecycle: %w", err)
	}
	// The hub's reads run on their own context and are not recorded.
	e.capturing.Store(true)
	gid, err := lifecycle(e.partner, e.reviewer, e.product, e.mpn, tops[1])
	e.capturing.Store(false)
	if err != nil {
		return nil, nil, fmt.Errorf("captured lifecycle: %w", err)
	}
	sent := e.rec.take()
	claimID, err := relay.ParseUUID(gid, relay.TypeClaim, "id")
	if err != nil {
		return nil, nil, err
	}
	vars := fresh{tops[1].tenant: "tenant", tops[1].subscription: "subscription", tops[1].domain: "domain", claimID.String(): "claim"}
	return sent, vars, e.createdRows(ctx, claimID, vars)
}

// createdRows names the rows the lifecycle of the claim created.
func (e *env) createdRows(ctx context.Context, claimID uuid.UUID, vars fresh) error {
	for _, t := range []struct{ table, column, prefix string }{
		{"documents", "claim_id", "doc"}, {"comments", "claim_id", "comment"}, {"associations", "claim_id", "assoc"},
	} {
		var ids []uuid.UUID
		if err := e.db.WithContext(ctx).Table(t.table).Where(t.column+" = ?", claimID).Order("id").Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("created %s: %w", t.table, err)
		}
		for i, id := range ids {
			vars[id.String()] = t.prefix + strconv.Itoa(i)
		}
	}
	return nil
}

// scriptHeader takes the next target and a fresh ID for every created row.
func scriptHeader(vars fresh) string {
	cols := []string{"tenant", "subscription", "domain"}
	for _, name := range vars {
		if name != "tenant" && name != "subscription" && name != "domain" {
			cols = append(cols, "gen_random_uuid() AS "+name)
		}
	}
	return "SELECT " + strings.Join(cols, ", ") +
		" FROM bench_targets WHERE n = (SELECT nextval('bench_target_seq')) \\gset\n"
}

func writeScript(path, text string) (string, error) {
	if path == "" {
		f, err := os.CreateTemp("", "lifecycle-*.sql")
		if err != nil {
			return "", err
		}
		path = f.Name()
		_ = f.Close()
	}
	return path, os.WriteFile(path, []byte(text), 0o644)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench replays the script with c clients and returns lifecycles per
// second (each script run is one lifecycle).
func pgbench(ctx context.Context, dbURL, file string, c int, d time.Duration) (float64, error) {
	jobs := min(c, 4)
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(c), "-j", strconv.Itoa(jobs),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", file, dbURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out.String())
	}
	m := tpsLine.FindStringSubmatch(out.String())
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps:\n%s", out.String())
	}
	return strconv.ParseFloat(m[1], 64)
}

// drive runs c lifecycles at a time over HTTP for d and returns lifecycles
// per second and the targets it left unused (it takes them from the end).
func (e *env) drive(c int, d time.Duration, targets []target) (float64, []target, error) {
	var (
		done     atomic.Int64
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next.Store(int64(len(targets)))
	deadline := time.Now().Add(d)
	begin := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := next.Add(-1)
				if i < 0 {
					return
				}
				if _, err := lifecycle(e.partner, e.reviewer, e.product, e.mpn, targets[i]); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if firstErr != nil {
		return 0, nil, firstErr
	}
	left := next.Load()
	if left < 0 {
		return 0, nil, errors.New("ran out of targets; raise -targets")
	}
	return float64(done.Load()) / elapsed.Seconds(), targets[:left], nil
}
