package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// plan is the rounds to run on one database: in each round, each scenario
// at each of its concurrencies on each target, so that rounds (and the
// service and its peer) interleave and a slow spell of the machine spreads
// over every figure.
type plan struct {
	opt     options
	targets []*target
	// scenarios per target, in the order they run.
	scenarios map[*target][]*scenario
}

func newPlan(ctx context.Context, opt options, ds *dataSet, targets []*target, reviewer string) (*plan, error) {
	p := &plan{opt: opt, targets: targets, scenarios: map[*target][]*scenario{}}
	for _, t := range targets {
		page, claim := readScenarios(ds, t.endpoint, reviewer, t.peer)
		if err := check(ctx, t, page, claim); err != nil {
			return nil, err
		}
		for _, sc := range []*scenario{page, claim} {
			if opt.scenarios[sc.name] {
				p.scenarios[t] = append(p.scenarios[t], sc)
			}
		}
		if opt.scenarios["lifecycle"] && !t.peer {
			l, err := newLifecycle(ds, t.endpoint, reviewer)
			if err != nil {
				return nil, err
			}
			p.scenarios[t] = append(p.scenarios[t], l.scenario())
		}
	}
	return p, nil
}

// check sends each read once and looks at the answer, so that a document
// the target misreads fails loudly rather than measuring errors or nulls.
func check(ctx context.Context, t *target, page, claim *scenario) error {
	w := &worker{client: newClient(1), rng: rand.New(rand.NewPCG(1, 2))}
	if err := claim.run(ctx, w); err != nil {
		return fmt.Errorf("claim on %s: %w", t.name, err)
	}
	if err := expectData(w.buf.Bytes(), func(v json.RawMessage) bool { return string(v) != "null" }); err != nil {
		return fmt.Errorf("claim on %s: %w", t.name, err)
	}
	if err := page.run(ctx, w); err != nil {
		return fmt.Errorf("page on %s: %w", t.name, err)
	}
	err := expectData(w.buf.Bytes(), func(v json.RawMessage) bool {
		var conn struct{ Nodes []json.RawMessage }
		return json.Unmarshal(v, &conn) == nil && len(conn.Nodes) == 50
	})
	if err != nil {
		return fmt.Errorf("page on %s (want 50 claims): %w", t.name, err)
	}
	fmt.Printf("%s: the page is %d KiB\n", t.name, w.buf.Len()/1024)
	return nil
}

// expectData checks the one top-level field of a response's data.
func expectData(raw []byte, ok func(json.RawMessage) bool) error {
	var out struct{ Data map[string]json.RawMessage }
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	for _, v := range out.Data {
		if !ok(v) {
			return fmt.Errorf("unexpected answer: %s", clip(raw))
		}
	}
	return nil
}

func (p *plan) concurrencies(sc *scenario) []int {
	if sc.name == "lifecycle" {
		return p.opt.lifeConc
	}
	return p.opt.readConc
}

// run measures the reads first and the lifecycles after them: the claims a
// lifecycle makes are the newest, and would otherwise top the page the
// later rounds read.
func (p *plan) run(ctx context.Context, rep *report) error {
	// One client per target and concurrency: its keep-alive connections
	// outlive a round, so rounds after the first measure no connection set-up.
	clients := map[string]*http.Client{}
	warmed := map[string]bool{}
	for _, phase := range [][]string{{"page", "claim"}, {"lifecycle"}} {
		for r := range p.opt.rounds {
			for _, name := range phase {
				for _, t := range p.targets {
					sc := p.find(t, name)
					if sc == nil {
						continue
					}
					for _, conc := range p.concurrencies(sc) {
						key := fmt.Sprint(t.name, "/", conc)
						if clients[key] == nil {
							clients[key] = newClient(conc)
						}
						if !warmed[t.name+"/"+name] && p.opt.warmup > 0 {
							warmed[t.name+"/"+name] = true
							if err := p.step(ctx, rep, t, sc, conc, clients[key], 0); err != nil {
								return err
							}
						}
						if err := p.step(ctx, rep, t, sc, conc, clients[key], r+1); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

func (p *plan) find(t *target, name string) *scenario {
	for _, sc := range p.scenarios[t] {
		if sc.name == name {
			return sc
		}
	}
	return nil
}

// step runs one round (number r; 0 is the unmeasured warm-up) and reports it.
func (p *plan) step(ctx context.Context, rep *report, t *target, sc *scenario, conc int, c *http.Client, r int) error {
	d, label := p.opt.duration, fmt.Sprintf("round %d", r)
	if r == 0 {
		d, label = p.opt.warmup, "warm-up"
	}
	if r == 1 && p.opt.cpuProfile != "" && t.srv != nil {
		go p.profile(t, sc, conc)
	}
	s, err := round(ctx, t, sc, conc, d, c)
	if err != nil {
		return err
	}
	if r > 0 {
		rep.add(t, sc, conc, s)
	}
	fmt.Printf("%-8s %-26s %-9s c=%-3d %s\n", label, t.name, sc.name, conc, s.brief(sc))
	return ctx.Err()
}

// profile takes a CPU profile of the server over most of the round.
func (p *plan) profile(t *target, sc *scenario, conc int) {
	d := max(p.opt.duration-time.Second, time.Second)
	name := fmt.Sprintf("cpu-%s-%s-%d.pprof", strings.ToLower(t.name), sc.name, conc)
	if err := t.srv.profile(d, filepath.Join(p.opt.cpuProfile, name)); err != nil {
		fmt.Println("profile:", err)
	}
}
