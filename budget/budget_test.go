package budget_test

import (
	"testing"
	"time"

	"cpor/budget"
)

func TestSpend(t *testing.T) {
	cfg := budget.Config{Capacity: 1000, PerSecond: 100, MaxCallers: 10}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		caller     string
		at         time.Duration
		cost       int
		ok         bool
		remaining  int
		retryAfter time.Duration
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a new caller has the whole capacity", []step{{"a", 0, 1000, true, 0, 0}}},
		{"spending down, then refused with the wait for the deficit", []step{
			{"a", 0, 600, true, 400, 0},
			{"a", 0, 600, false, 400, 2 * time.Second},
		}},
		{"a refusal spends nothing", []step{
			{"a", 0, 900, true, 100, 0},
			{"a", 0, 500, false, 100, 4 * time.Second},
			{"a", 0, 100, true, 0, 0},
		}},
		{"the budget refills at the rate, up to the capacity", []step{
			{"a", 0, 1000, true, 0, 0},
			{"a", 3 * time.Second, 300, true, 0, 0},
			{"a", time.Hour, 1, true, 999, 0},
		}},
		{"callers are independent", []step{
			{"a", 0, 1000, true, 0, 0},
			{"b", 0, 1000, true, 0, 0},
			{"a", 0, 1, false, 0, 10 * time.Millisecond},
		}},
		{"more than the capacity is never affordable", []step{
			{"a", 0, 1001, false, 1000, 1<<63 - 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := budget.New(cfg)
			for i, s := range tc.steps {
				c := b.Spend(s.caller, s.cost, t0.Add(s.at))
				if c.OK != s.ok || c.Remaining != s.remaining || c.RetryAfter != s.retryAfter || c.Cost != s.cost {
					t.Errorf("step %d: %+v, want ok=%v remaining=%d retryAfter=%v", i, c, s.ok, s.remaining, s.retryAfter)
				}
				if c.Capacity != 1000 || c.PerSecond != 100 {
					t.Errorf("step %d: budget described as %d at %v/s", i, c.Capacity, c.PerSecond)
				}
			}
		})
	}
}

func TestOff(t *testing.T) {
	for _, cfg := range []budget.Config{{}, {Capacity: 10}, {PerSecond: 1}} {
		if budget.New(cfg) != nil {
			t.Errorf("%+v: budgets on", cfg)
		}
	}
}

func TestBucketsAreBounded(t *testing.T) {
	b := budget.New(budget.Config{Capacity: 10, PerSecond: 1, MaxCallers: 100})
	now := time.Now()
	for i := range 10_000 {
		b.Spend(string(rune(i)), 10, now)
	}
	if n := b.Callers(); n > 200 {
		t.Errorf("%d buckets held for a limit of 100", n)
	}
}
