package scheduler

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheMaxWithJitter(t *testing.T) {
	s := &Scheduler{cfg: Config{BackoffBase: 30 * time.Second, BackoffMax: time.Hour}}
	cases := []struct {
		attempts int
		full     time.Duration
	}{
		{1, 30 * time.Second},
		{2, time.Minute},
		{5, 8 * time.Minute},
		{8, time.Hour}, // 64 minutes, capped
		{1000, time.Hour},
	}
	for _, tc := range cases {
		for range 100 {
			if d := s.backoff(tc.attempts); d <= tc.full/2 || d > tc.full {
				t.Fatalf("backoff after %d failures = %s, want in (%s, %s]", tc.attempts, d, tc.full/2, tc.full)
			}
		}
	}
}

func TestJitteredStaysWithinAFifthOfTheInterval(t *testing.T) {
	for range 1000 {
		if d := jittered(15 * time.Second); d < 12*time.Second || d > 18*time.Second {
			t.Fatalf("jittered 15s = %s, want within ±20%%", d)
		}
	}
	if d := jittered(time.Nanosecond); d != time.Nanosecond {
		t.Errorf("jittered 1ns = %s; too small to vary, it must stay", d)
	}
}
