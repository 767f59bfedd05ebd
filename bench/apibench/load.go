package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// target is a GraphQL endpoint under load: the service on one database, or
// the peer (PostGraphile) on PostgreSQL.
type target struct {
	name     string // the table's database column
	endpoint string
	srv      *server      // the service; nil for the peer
	pid      int          // the serving process, 0 when unknown
	pg       *postgresCPU // nil on SQLite or when PostgreSQL is not local
	peer     bool
}

// scenario is one kind of unit of work: a request, or a lifecycle of five.
type scenario struct {
	name     string
	unit     string // what a throughput figure counts
	requests int    // HTTP requests per unit
	forPeer  bool   // the peer can run it
	// run does one unit as worker w; an error is a failed unit.
	run func(ctx context.Context, w *worker) error
}

// worker is one client connection's loop; it keeps its buffers between
// requests so that the load generator costs little.
type worker struct {
	id     int
	client *http.Client
	rng    *rand.Rand
	buf    bytes.Buffer
	body   bytes.Buffer
	lat    []time.Duration
	failed int
	first  error
	// outOfSpares: the worker stopped early, every spare being claimed.
	outOfSpares bool
}

// sample is what one round of a scenario at one concurrency measured.
type sample struct {
	units, failed int
	elapsed       time.Duration
	lat           []time.Duration
	statements    float64
	serverCPU     time.Duration
	postgresCPU   time.Duration
	firstErr      error
	outOfSpares   bool
}

func (s *sample) add(o sample) {
	s.units += o.units
	s.failed += o.failed
	s.elapsed += o.elapsed
	s.lat = append(s.lat, o.lat...)
	s.statements += o.statements
	s.serverCPU += o.serverCPU
	s.postgresCPU += o.postgresCPU
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
	s.outOfSpares = s.outOfSpares || o.outOfSpares
}

// counters are the cumulative readings a round's figures are deltas of.
type counters struct {
	statements  float64
	serverCPU   time.Duration
	postgresCPU time.Duration
}

func (t *target) read() (counters, error) {
	var c counters
	var err error
	if t.srv != nil {
		if c.statements, err = t.srv.statements(); err != nil {
			return c, err
		}
	}
	if t.pid != 0 {
		if c.serverCPU, err = cpuTime(t.pid, false); err != nil {
			return c, fmt.Errorf("server CPU: %w", err)
		}
	}
	if c.postgresCPU, err = t.pg.total(); err != nil {
		return c, fmt.Errorf("PostgreSQL CPU: %w", err)
	}
	return c, nil
}

// newClient keeps one connection per worker alive across requests.
func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute,
		DisableCompression: true,
	}}
}

// round runs sc with conc workers for d and reads the counters around it.
func round(ctx context.Context, t *target, sc *scenario, conc int, d time.Duration, client *http.Client) (sample, error) {
	before, err := t.read()
	if err != nil {
		return sample{}, err
	}
	workers := make([]*worker, conc)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{id: i, client: client, rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano()))),
			lat: make([]time.Duration, 0, 4096)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, sc, deadline)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after, err := t.read()
	if err != nil {
		return sample{}, err
	}
	s := sample{elapsed: elapsed, statements: after.statements - before.statements,
		serverCPU: after.serverCPU - before.serverCPU, postgresCPU: after.postgresCPU - before.postgresCPU}
	for _, w := range workers {
		s.units += len(w.lat)
		s.failed += w.failed
		s.lat = append(s.lat, w.lat...)
		if s.firstErr == nil {
			s.firstErr = w.first
		}
		s.outOfSpares = s.outOfSpares || w.outOfSpares
	}
	return s, nil
}

func (w *worker) loop(ctx context.Context, sc *scenario, deadline time.Time) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		start := time.Now()
		err := sc.run(ctx, w)
		if errors.Is(err, errNoSpares) {
			w.outOfSpares = true
			return
		}
		w.lat = append(w.lat, time.Since(start))
		if err != nil {
			w.failed++
			if w.first == nil {
				w.first = err
			}
		}
	}
}

// post sends a GraphQL request and keeps the response in w.buf. A response
// that is not HTTP 200, or has errors, is an error.
func (w *worker) post(ctx context.Context, url, token, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	w.buf.Reset()
	if _, err := io.Copy(&w.buf, resp.Body); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	out := w.buf.Bytes()
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors":`)) {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(out))
	}
	return out, nil
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

func sortedCopy(lat []time.Duration) []time.Duration {
	out := slices.Clone(lat)
	slices.Sort(out)
	return out
}
