// Command apibench measures the claims API under load: a reviewer's claims
// page, one claim by ID, and a claim's whole lifecycle, at several
// concurrencies, against the server running as its own process on embedded
// SQLite and on PostgreSQL, and optionally against PostGraphile on the same
// PostgreSQL database (bench/postgraphile).
//
//	go run ./bench/apibench                                   # SQLite
//	go run ./bench/apibench -database-url postgres://…        # PostgreSQL
//	go run ./bench/apibench -database-url postgres://… -both  # both
//	go run ./bench/apibench -database-url postgres://… -peer http://127.0.0.1:5678/graphql
//
// The data set: the demo data (demo.Seed), eight more partner organisations
// beside the demo's two, each with an enrolled MPN, and claims up to -claims
// in all (5,227 by default), filed through the domain services in-process
// (claims.Service, workflow.Service, catalog.Service, as demo.Seed does)
// before the server starts, so every row is one the service itself wrote.
// Each customer tenant has a subscription to each of the five Dynamics 365
// products and five claims, each on another product, so no claim competes
// with another. Statuses: 12% drafts, 14% submitted, 14% under review (with
// an information request), 45% approved, 15% rejected; people's comments
// come on top of those the workflow posts, for about 3.3 comments and 8.5
// history events per claim. Spare tenants, each with five unclaimed
// subscriptions, are topped up to -spares for the lifecycle scenario, which
// claims one per lifecycle. The seed runs on six goroutines on PostgreSQL
// and on one on SQLite (one writer); it takes a few minutes. A tenant whose
// name records the data set is written last: a later run on the same
// database (PostgreSQL, or the SQLite file in -keep DIR) reuses the data set
// and only tops up the spares. Lifecycle claims are the newest, so they top
// the page of a later run on the same database (the command warns); on
// PostgreSQL, run on a copy of a seeded database instead:
// CREATE DATABASE run1 TEMPLATE bench.
//
// Per scenario, database and concurrency it prints throughput, p50 and p99
// latency (of a request; of a whole lifecycle for lifecycle), SQL statements
// per request (the server's cpor_db_statements_total from its admin
// listener), the server's CPU per request and PostgreSQL's (from
// /proc/<pid>/stat: utime+stime of the server, of the postmaster and its
// children), and failed units: a response that is not HTTP 200, has errors
// or userErrors, or leaves a claim in another state than expected counts as
// a failure, never as throughput.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"cpor/storage"
)

type options struct {
	claims, spares     int
	duration, warmup   time.Duration
	rounds             int
	readConc, lifeConc []int
	scenarios          map[string]bool
	databaseURL        string
	both               bool
	keep               string
	cpuProfile         string
	peer               string
	peerPID            int
}

func main() {
	opt, err := parseFlags()
	if err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, opt); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apibench:", err)
	os.Exit(1)
}

func parseFlags() (options, error) {
	var o options
	var readConc, lifeConc, scenarios string
	flag.IntVar(&o.claims, "claims", 5227, "claims in the data set (the demo's included)")
	flag.IntVar(&o.spares, "spares", 0, "unclaimed subscriptions to keep for the lifecycle scenario, one per lifecycle (default: enough for 150 lifecycles/s)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of one round of a scenario at one concurrency")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each scenario's first round on a target")
	flag.IntVar(&o.rounds, "rounds", 1, "rounds, interleaved: every scenario at every concurrency once per round")
	flag.StringVar(&readConc, "read-concurrency", "16,64", "comma-separated worker counts for page and claim")
	flag.StringVar(&lifeConc, "lifecycle-concurrency", "8,32", "comma-separated worker counts for lifecycle")
	flag.StringVar(&scenarios, "scenarios", "page,claim,lifecycle", "comma-separated scenarios to run")
	flag.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL (postgres://…); without it, embedded SQLite")
	flag.BoolVar(&o.both, "both", false, "with -database-url, measure on SQLite as well")
	flag.StringVar(&o.keep, "keep", "", "directory for the SQLite data set, kept and reused by later runs (default: a temporary one)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the server during each scenario's first round to this directory")
	flag.StringVar(&o.peer, "peer", "", "GraphQL endpoint of PostGraphile on the -database-url database, to run page and claim against as well")
	flag.IntVar(&o.peerPID, "peer-pid", 0, "process ID of the peer, for its CPU per request")
	flag.Parse()
	if flag.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	var err error
	if o.readConc, err = ints(readConc); err != nil {
		return o, fmt.Errorf("-read-concurrency: %w", err)
	}
	if o.lifeConc, err = ints(lifeConc); err != nil {
		return o, fmt.Errorf("-lifecycle-concurrency: %w", err)
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		switch s = strings.TrimSpace(s); s {
		case "page", "claim", "lifecycle":
			o.scenarios[s] = true
		default:
			return o, fmt.Errorf("-scenarios: no scenario %q (page, claim, lifecycle)", s)
		}
	}
	if o.cpuProfile != "" {
		if err := os.MkdirAll(o.cpuProfile, 0o755); err != nil {
			return o, fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	if o.peer != "" && o.databaseURL == "" {
		return o, errors.New("-peer needs -database-url: PostGraphile serves the PostgreSQL data set")
	}
	if o.claims < 1 || o.rounds < 1 || o.duration <= 0 {
		return o, errors.New("-claims, -rounds and -duration must be positive")
	}
	if o.spares <= 0 && o.scenarios["lifecycle"] {
		o.spares = o.sparesNeeded(150)
	}
	return o, nil
}

// sparesNeeded is how many lifecycles the rounds run at perSecond.
func (o options) sparesNeeded(perSecond float64) int {
	seconds := float64(o.rounds*len(o.lifeConc))*o.duration.Seconds() + o.warmup.Seconds()
	return int(seconds * perSecond)
}

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// database is one of the databases a run measures on.
type database struct {
	name string
	url  string // empty: SQLite
}

func (o options) databases() []database {
	if o.databaseURL == "" {
		return []database{{name: "SQLite"}}
	}
	dbs := []database{{name: "PostgreSQL", url: o.databaseURL}}
	if o.both {
		dbs = append([]database{{name: "SQLite"}}, dbs...)
	}
	return dbs
}

func run(ctx context.Context, opt options) error {
	tmp, err := os.MkdirTemp("", "apibench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildServer(tmp)
	if err != nil {
		return err
	}
	rep := newReport()
	for _, db := range opt.databases() {
		if err := measure(ctx, opt, db, bin, tmp, rep); err != nil {
			return fmt.Errorf("%s: %w", db.name, err)
		}
	}
	rep.print(os.Stdout, opt)
	return nil
}

// measure seeds (or reuses) the data set on db, starts the server on it and
// runs the rounds.
func measure(ctx context.Context, opt options, db database, bin, tmp string, rep *report) error {
	dataDir := filepath.Join(tmp, "data-"+strings.ToLower(db.name))
	if opt.keep != "" && db.url == "" {
		dataDir = opt.keep
	}
	fmt.Printf("== %s: preparing the data set\n", db.name)
	ds, err := prepare(ctx, storage.Config{DatabaseURL: db.url, DataDir: dataDir, MaxOpenConns: 10}, opt.claims, opt.spares)
	if err != nil {
		return err
	}
	fmt.Printf("data set: %s; %d spare subscriptions\n", ds.summary, len(ds.spares))
	label := db.name
	if v := postgresVersion(ctx, db.url); db.url != "" && v != "" {
		label += " " + v
	}
	rep.dataSets = append(rep.dataSets, label+": "+ds.summary)
	if ds.lifecycleClaims > 0 && opt.scenarios["page"] {
		fmt.Printf("WARNING: %d claims of earlier lifecycle runs are the newest: the page shows them, not the data set's; use a fresh database for figures\n", ds.lifecycleClaims)
	}
	srv, err := startServer(bin, dataDir, db.url)
	if err != nil {
		return err
	}
	defer srv.stop()
	var pg *postgresCPU
	if db.url != "" {
		if pg = findPostgres(ctx, db.url); pg == nil {
			fmt.Println("PostgreSQL is not local (or its data directory is unreadable): no PostgreSQL CPU figure")
		}
	}
	reviewer, err := reviewerToken()
	if err != nil {
		return err
	}
	targets := []*target{{name: db.name, endpoint: srv.base + "/graphql", srv: srv, pid: srv.pid(), pg: pg}}
	if opt.peer != "" && db.url != "" {
		targets = append(targets, &target{name: "PostGraphile (PostgreSQL)", endpoint: opt.peer, pid: opt.peerPID, pg: pg, peer: true})
	}
	plan, err := newPlan(ctx, opt, ds, targets, reviewer)
	if err != nil {
		return err
	}
	return plan.run(ctx, rep)
}
