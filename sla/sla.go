// Package sla computes review deadlines in business days: weekends and
// configured holidays do not count.
package sla

import (
	"fmt"
	"strings"
	"time"
)

// ReviewBusinessDays is how long a reviewer has for a submitted claim.
const ReviewBusinessDays = 5

// Calendar knows which days are business days. Days are taken in UTC.
type Calendar struct {
	holidays map[civilDate]bool
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.UTC().Date()
	return civilDate{y, m, d}
}

// NewCalendar returns a calendar with the given holidays.
func NewCalendar(holidays ...time.Time) *Calendar {
	c := &Calendar{holidays: map[civilDate]bool{}}
	for _, h := range holidays {
		c.holidays[dateOf(h)] = true
	}
	return c
}

// ParseHolidays reads a comma-separated list of YYYY-MM-DD dates.
func ParseHolidays(list string) (*Calendar, error) {
	var days []time.Time
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, field)
		if err != nil {
			return nil, fmt.Errorf("holiday %q is not a YYYY-MM-DD date", field)
		}
		days = append(days, d)
	}
	return NewCalendar(days...), nil
}

// IsBusinessDay reports whether t falls on a weekday that is not a holiday.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	t = t.UTC()
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[dateOf(t)]
}

// AddBusinessDays returns the moment n business days after t: the same time
// of day on the n-th business day after t's day. A claim submitted on Friday
// afternoon is due the next Friday afternoon; one submitted on Saturday is due
// on Friday too.
func (c *Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	t = t.UTC()
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.IsBusinessDay(t) {
			n--
		}
	}
	return t
}

// ReviewDue returns when a claim submitted at t must have been reviewed.
func (c *Calendar) ReviewDue(submittedAt time.Time) time.Time {
	return c.AddBusinessDays(submittedAt, ReviewBusinessDays)
}

// BusinessDaysBetween counts the business days in (from, to] by calendar day.
func (c *Calendar) BusinessDaysBetween(from, to time.Time) int {
	n := 0
	for d := from.UTC().AddDate(0, 0, 1); !dateOf(d).after(dateOf(to)); d = d.AddDate(0, 0, 1) {
		if c.IsBusinessDay(d) {
			n++
		}
	}
	return n
}

func (a civilDate) after(b civilDate) bool {
	if a.y != b.y {
		return a.y > b.y
	}
	if a.m != b.m {
		return a.m > b.m
	}
	return a.d > b.d
}

// ResponseBusinessDays is how long a partner has to answer an information
// request, unless configured otherwise.
const ResponseBusinessDays = 10

// BusinessTimeBetween is the part of [from, to) that falls on business
// days: the review time left when the review clock stops. It is negative
// when to is before from (a review already overdue keeps its debt).
func (c *Calendar) BusinessTimeBetween(from, to time.Time) time.Duration {
	if to.Before(from) {
		return -c.BusinessTimeBetween(to, from)
	}
	var sum time.Duration
	for t := from.UTC(); t.Before(to); {
		next := startOfDay(t).AddDate(0, 0, 1)
		if next.After(to) {
			next = to.UTC()
		}
		if c.IsBusinessDay(t) {
			sum += next.Sub(t)
		}
		t = next
	}
	return sum
}

// AddBusinessTime returns the moment d of business time after t: where the
// review clock, restarted at t with d left, runs out. A negative d (time
// that was already overdue) is taken as it is.
func (c *Calendar) AddBusinessTime(t time.Time, d time.Duration) time.Time {
	t = t.UTC()
	if d <= 0 {
		return t.Add(d)
	}
	for {
		next := startOfDay(t).AddDate(0, 0, 1)
		if c.IsBusinessDay(t) {
			if left := next.Sub(t); d <= left {
				return t.Add(d)
			} else {
				d -= left
			}
		}
		t = next
	}
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
