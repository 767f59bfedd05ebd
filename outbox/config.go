package outbox

import (
	"errors"
	"time"

	"cpor/storage"
)

// Config tunes a Dispatcher. The zero value of each field means its
// default.
type Config struct {
	// Interval is how often an idle dispatcher looks for due deliveries
	// (default 1s) when no commit of this instance woke it.
	Interval time.Duration
	// Concurrency bounds the sends in flight (default 16).
	Concurrency int
	// AttemptTimeout bounds one attempt (default 15s).
	AttemptTimeout time.Duration
	// Lease is how long a taken delivery stays this instance's (default
	// 2m, and always more than AttemptTimeout): an instance that dies while
	// sending leaves it to the others once the lease ends.
	Lease time.Duration
	// BackoffBase is the delay before the first retry (default 10s); each
	// further failure doubles it, up to BackoffMax (default 1h), each delay
	// jittered so that failing receivers are not retried in step.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Clock reads the time deliveries are due against (default
	// storage.Now). Tests move it instead of sleeping.
	Clock func() time.Time
}

// Defaults of Config's fields.
const (
	DefaultInterval       = time.Second
	DefaultConcurrency    = 16
	DefaultAttemptTimeout = 15 * time.Second
	DefaultLease          = 2 * time.Minute
	DefaultBackoffBase    = 10 * time.Second
	DefaultBackoffMax     = time.Hour
)

func (c Config) withDefaults() (Config, error) {
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	set(&c.Interval, DefaultInterval)
	set(&c.AttemptTimeout, DefaultAttemptTimeout)
	set(&c.Lease, DefaultLease)
	set(&c.BackoffBase, DefaultBackoffBase)
	set(&c.BackoffMax, DefaultBackoffMax)
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Clock == nil {
		c.Clock = storage.Now
	}
	switch {
	case c.Interval < 0 || c.AttemptTimeout < 0 || c.Lease < 0 || c.BackoffBase < 0 || c.BackoffMax < 0 || c.Concurrency < 0:
		return c, errors.New("outbox: negative setting")
	case c.Lease <= c.AttemptTimeout:
		return c, errors.New("outbox: the lease must outlast an attempt")
	case c.BackoffMax < c.BackoffBase:
		return c, errors.New("outbox: the longest backoff is shorter than the first")
	}
	return c, nil
}
