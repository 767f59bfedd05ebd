// Package fakeclock is a clock that tests move by hand instead of
// sleeping; it reads as UTC, in the microseconds the databases keep.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// At returns a clock showing t.
func At(t time.Time) *Clock { return &Clock{now: normal(t)} }

// Now is the time the clock shows.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = normal(c.now.Add(d))
	return c.now
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = normal(t)
}

func normal(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
