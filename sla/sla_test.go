package sla

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReviewDue(t *testing.T) {
	cal, err := ParseHolidays("2026-12-25, 2027-01-01")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		submitted string
		due       string
	}{
		{"monday", "2026-11-23T10:00:00Z", "2026-11-30T10:00:00Z"},
		{"friday afternoon", "2026-11-27T16:30:00Z", "2026-12-04T16:30:00Z"},
		{"saturday", "2026-11-28T09:00:00Z", "2026-12-04T09:00:00Z"},
		{"sunday", "2026-11-29T09:00:00Z", "2026-12-04T09:00:00Z"},
		{"christmas skipped", "2026-12-21T08:00:00Z", "2026-12-29T08:00:00Z"},
		{"christmas and new year skipped", "2026-12-24T12:00:00Z", "2027-01-04T12:00:00Z"},
		{"submitted on a holiday", "2026-12-25T12:00:00Z", "2027-01-04T12:00:00Z"},
		{"other time zone counted in UTC", "2026-11-27T23:30:00-05:00", "2026-12-04T04:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.ReviewDue(at(tt.submitted))
			if !got.Equal(at(tt.due)) {
				t.Errorf("ReviewDue(%s) = %s, want %s", tt.submitted, got, tt.due)
			}
		})
	}
}

func TestParseHolidaysRejectsBadDates(t *testing.T) {
	for _, in := range []string{"2026-13-01", "25/12/2026", "tomorrow", "2026-12-25,x"} {
		if _, err := ParseHolidays(in); err == nil {
			t.Errorf("ParseHolidays(%q) accepted a bad date", in)
		}
	}
	if _, err := ParseHolidays(""); err != nil {
		t.Errorf("empty list: %v", err)
	}
}

// FuzzAddBusinessDays checks the deadline's properties for any start and
// holiday: it lands on a business day, later than the start, at the same
// time of day, with exactly n business days in between.
func FuzzAddBusinessDays(f *testing.F) {
	f.Add(int64(1795000000), uint8(5), int64(1795100000))
	f.Add(int64(0), uint8(0), int64(0))
	f.Add(int64(1798156800), uint8(30), int64(1798243200))
	f.Fuzz(func(t *testing.T, start int64, n uint8, holiday int64) {
		const span = int64(400 * 365 * 24 * 3600)
		start %= span
		holiday %= span
		from := time.Unix(start, 0).UTC()
		cal := NewCalendar(time.Unix(holiday, 0))
		days := int(n % 60)
		got := cal.AddBusinessDays(from, days)
		if days == 0 {
			if !got.Equal(from) {
				t.Fatalf("0 business days moved %s to %s", from, got)
			}
			return
		}
		if !got.After(from) {
			t.Fatalf("%s + %d business days = %s, not later", from, days, got)
		}
		if !cal.IsBusinessDay(got) {
			t.Fatalf("%s + %d business days = %s, not a business day", from, days, got)
		}
		if got.Sub(got.Truncate(24*time.Hour)) != from.Sub(from.Truncate(24*time.Hour)) {
			t.Fatalf("time of day changed: %s → %s", from, got)
		}
		if between := cal.BusinessDaysBetween(from, got); between != days {
			t.Fatalf("%d business days between %s and %s, want %d", between, from, got, days)
		}
	})
}

func FuzzParseHolidays(f *testing.F) {
	f.Add("2026-12-25,2027-01-01")
	f.Add(" , ,2026-02-29")
	f.Fuzz(func(t *testing.T, list string) {
		cal, err := ParseHolidays(list)
		if err != nil {
			return
		}
		if cal == nil {
			t.Fatal("nil calendar without error")
		}
	})
}

// TestBusinessTimeRoundTrip: the review time left when the clock stops
// comes back whole when it restarts, weekends and holidays skipped.
func TestBusinessTimeRoundTrip(t *testing.T) {
	holiday := time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC) // a Friday
	cal := NewCalendar(holiday)
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name           string
		stop, due      time.Time
		left           time.Duration
		restart, after time.Time
	}{
		{"same day", at(21, 9), at(21, 17), 8 * time.Hour, at(22, 9), at(22, 17)},
		{"over a weekend", at(18, 12), at(21, 12), 24 * time.Hour, at(21, 12), at(22, 12)},
		{"over a holiday and a weekend", at(24, 12), at(28, 12), 24 * time.Hour, at(24, 12), at(28, 12)},
		{"restarted on a Saturday", at(21, 0), at(22, 0), 24 * time.Hour, at(26, 10), at(29, 0)},
		{"already overdue", at(22, 12), at(21, 12), -24 * time.Hour, at(23, 12), at(22, 12)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.BusinessTimeBetween(tc.stop, tc.due); got != tc.left {
				t.Fatalf("BusinessTimeBetween = %v; want %v", got, tc.left)
			}
			if got := cal.AddBusinessTime(tc.restart, tc.left); !got.Equal(tc.after) {
				t.Fatalf("AddBusinessTime(%v, %v) = %v; want %v", tc.restart, tc.left, got, tc.after)
			}
		})
	}
}
