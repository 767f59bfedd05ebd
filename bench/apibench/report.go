package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// row is one line of the table: a scenario on a target at a concurrency,
// summed over the rounds.
type row struct {
	target   *target
	scenario *scenario
	conc     int
	sample
}

type report struct {
	rows     []*row
	dataSets []string
}

func newReport() *report { return &report{} }

func (r *report) add(t *target, sc *scenario, conc int, s sample) {
	for _, x := range r.rows {
		if x.target.name == t.name && x.scenario.name == sc.name && x.conc == conc {
			x.add(s)
			return
		}
	}
	r.rows = append(r.rows, &row{target: t, scenario: sc, conc: conc, sample: s})
}

// brief is a round's one-line progress report.
func (s sample) brief(sc *scenario) string {
	lat := sortedCopy(s.lat)
	out := fmt.Sprintf("%8.1f %s/s  p50 %-8s p99 %-8s failed %d", s.rate(), sc.unit, ms(percentile(lat, .5)), ms(percentile(lat, .99)), s.failed)
	if s.firstErr != nil {
		out += "  first failure: " + s.firstErr.Error()
	}
	if s.outOfSpares {
		out += "  WARNING: spare subscriptions ran out before the round's end (raise -spares)"
	}
	return out
}

// rate counts completed units only: a failed one is not throughput.
func (s sample) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.units-s.failed) / s.elapsed.Seconds()
}

func (s sample) requests(sc *scenario) float64 { return float64(s.units * sc.requests) }

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func perRequest(d time.Duration, n float64) string {
	if d == 0 || n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)/n)
}

func (r *report) print(w io.Writer, opt options) {
	fmt.Fprintf(w, "\n## apibench\n\n%s\n\n", machine())
	for _, d := range r.dataSets {
		fmt.Fprintf(w, "- %s\n", d)
	}
	fmt.Fprintf(w, "- %d round(s) of %s per scenario and concurrency; latency is a request's, a whole lifecycle's (5 requests) for lifecycle\n\n",
		opt.rounds, opt.duration)
	fmt.Fprintln(w, "| scenario | server | concurrency | throughput | p50 | p99 | SQL statements / request | server CPU / request | PostgreSQL CPU / request | failed |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, x := range r.rows {
		lat := sortedCopy(x.lat)
		reqs := x.requests(x.scenario)
		stmts := "–"
		if x.target.srv != nil && reqs > 0 {
			stmts = fmt.Sprintf("%.1f", x.statements/reqs)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.1f %s/s | %s | %s | %s | %s | %s | %d of %d |\n",
			x.scenario.name, x.target.name, x.conc, x.rate(), x.scenario.unit, ms(percentile(lat, .5)), ms(percentile(lat, .99)),
			stmts, perRequest(x.serverCPU, reqs), perRequest(x.postgresCPU, reqs), x.failed, x.units)
	}
	r.printRatios(w)
}

// printRatios compares the service with the peer where both ran.
func (r *report) printRatios(w io.Writer) {
	var lines []string
	for _, p := range r.rows {
		if !p.target.peer {
			continue
		}
		for _, s := range r.rows {
			if s.target.peer || s.target.srv == nil || s.target.pg == nil && p.target.pg != nil ||
				s.scenario.name != p.scenario.name || s.conc != p.conc || s.target.name != "PostgreSQL" {
				continue
			}
			lines = append(lines, fmt.Sprintf("- %s at %d: the service serves %.2f× PostGraphile's throughput (%.1f vs %.1f req/s)",
				s.scenario.name, s.conc, s.rate()/p.rate(), s.rate(), p.rate()))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n"))
	}
}

// machine describes where the figures come from.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), %s/%s, %s; the load generator runs beside the server.",
		runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
