package scheduler

import (
	"errors"
	"fmt"
	"time"

	"cpor/storage"
)

// Config tunes a Scheduler. The zero value of each field means its default.
type Config struct {
	// Interval is the pause between passes when nothing is left due
	// (default 15s); each pause is varied by ±20% so that instances started
	// together spread their passes.
	Interval time.Duration
	// Batch bounds the jobs one pass runs (default 100). Run starts the next
	// pass at once after a full batch, checking for shutdown in between, so
	// a backlog is worked off promptly without holding up a stop.
	Batch int
	// BackoffBase is the delay before the first retry of a failed job
	// (default 30s); each further failure doubles it, up to BackoffMax.
	BackoffBase time.Duration
	// BackoffMax caps the retry delay (default 1h).
	BackoffMax time.Duration
	// MaxAttempts is how many failed attempts mark a job failed for good
	// (default 10: with the default backoff, 1.5 to 3 hours of retries).
	MaxAttempts int
	// JobTimeout bounds one job's transaction, handler included (default
	// 30s): on SQLite a job holds the only write slot while it runs.
	JobTimeout time.Duration
	// Clock reads the time jobs are due against (default storage.Now).
	// Tests move it instead of sleeping.
	Clock func() time.Time
}

// Defaults of Config's fields.
const (
	DefaultInterval    = 15 * time.Second
	DefaultBatch       = 100
	DefaultBackoffBase = 30 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultMaxAttempts = 10
	DefaultJobTimeout  = 30 * time.Second
)

// withDefaults fills the unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.Clock == nil {
		c.Clock = storage.Now
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.Interval < 0 || c.Batch < 0 || c.BackoffBase < 0 || c.MaxAttempts < 0 || c.JobTimeout < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	if c.BackoffMax < c.BackoffBase {
		errs = append(errs, fmt.Errorf("backoff max %s is below backoff base %s", c.BackoffMax, c.BackoffBase))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scheduler config: %w", err)
	}
	return nil
}
