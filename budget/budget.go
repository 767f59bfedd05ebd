// Package budget keeps a budget of cost points per caller, as GitHub's and
// Shopify's GraphQL APIs do: each operation spends what it costs, and the
// budget refills continuously up to its capacity (a token bucket, from
// golang.org/x/time/rate). Buckets are held for recent callers only; a
// bucket left alone long enough to be full again is dropped, since a new
// one is the same.
package budget

import (
	"math"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// Config is one class of callers' budget.
type Config struct {
	// Capacity is the most a caller can spend at once (and so the largest
	// single operation's cost).
	Capacity int
	// PerSecond is how many points come back each second.
	PerSecond float64
	// MaxCallers bounds the buckets held; the least recently used go first.
	MaxCallers int
}

// Off reports whether the config disables budgets.
func (c Config) Off() bool { return c.Capacity <= 0 || c.PerSecond <= 0 }

// Budgets are the buckets of one class of callers.
type Budgets struct {
	cfg     Config
	buckets *otter.Cache[string, *rate.Limiter]
}

// New returns budgets with the config; nil when the config is Off.
func New(cfg Config) *Budgets {
	if cfg.Off() {
		return nil
	}
	refill := time.Duration(float64(cfg.Capacity) / cfg.PerSecond * float64(time.Second))
	return &Budgets{
		cfg: cfg,
		buckets: otter.Must(&otter.Options[string, *rate.Limiter]{
			MaximumSize:      max(cfg.MaxCallers, 1),
			ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](refill + time.Minute),
		}),
	}
}

// Charge is the outcome of spending: what was spent and what is left.
type Charge struct {
	// Cost is what the operation costs.
	Cost int
	// OK is false when the budget could not cover the cost; nothing was
	// spent then.
	OK bool
	// Remaining is what is left after the charge (whole points).
	Remaining int
	// Capacity and PerSecond describe the budget.
	Capacity  int
	PerSecond float64
	// RetryAfter is how long until the cost can be covered, when !OK.
	RetryAfter time.Duration
}

// Spend takes cost points from the caller's budget at now, or nothing if
// it cannot cover them.
func (b *Budgets) Spend(caller string, cost int, now time.Time) Charge {
	lim := b.bucket(caller)
	c := Charge{Cost: cost, Capacity: b.cfg.Capacity, PerSecond: b.cfg.PerSecond}
	r := lim.ReserveN(now, cost)
	switch {
	case !r.OK(): // more than the whole capacity: never affordable
		c.RetryAfter = time.Duration(math.MaxInt64)
	case r.DelayFrom(now) > 0:
		c.RetryAfter = r.DelayFrom(now)
		r.CancelAt(now)
	default:
		c.OK = true
	}
	c.Remaining = max(int(lim.TokensAt(now)), 0)
	return c
}

func (b *Budgets) bucket(caller string) *rate.Limiter {
	if lim, ok := b.buckets.GetIfPresent(caller); ok {
		return lim
	}
	lim, _ := b.buckets.SetIfAbsent(caller, rate.NewLimiter(rate.Limit(b.cfg.PerSecond), b.cfg.Capacity))
	return lim
}

// Callers is how many buckets are held, once pending evictions are done.
func (b *Budgets) Callers() int {
	b.buckets.CleanUp()
	return b.buckets.EstimatedSize()
}
