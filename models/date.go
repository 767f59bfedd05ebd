package models

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// DateLayout is how a Date is written: ISO 8601's calendar date.
const DateLayout = "2006-01-02"

// Date is a calendar day, without a time of day or a time zone: the day
// the work a proof of execution shows was done. PostgreSQL stores it as
// DATE; SQLite as the text "YYYY-MM-DD", which sorts by day, so MAX works
// on both.
type Date struct{ t time.Time } // midnight UTC of the day

// DateOf is the day t falls on in UTC.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return NewDate(y, m, d)
}

// NewDate is the day; out-of-range days normalise as time.Date does.
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t}, nil
}

// Time is the start of the day in UTC.
func (d Date) Time() time.Time { return d.t }

func (d Date) String() string { return d.t.Format(DateLayout) }

func (d Date) IsZero() bool { return d.t.IsZero() }

func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

func (d Date) After(o Date) bool { return d.t.After(o.t) }

// Value writes the day as "YYYY-MM-DD", which PostgreSQL reads as a DATE.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a DATE (PostgreSQL, or SQLite's driver for a DATE column) or
// the text of one (SQLite, for an expression such as MAX).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		y, m, day := v.Date()
		*d = NewDate(y, m, day)
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("models.Date: cannot scan %T", src)
}

// scanText reads the day at the start of a text date or timestamp.
func (d *Date) scanText(s string) error {
	if len(s) < len(DateLayout) {
		return fmt.Errorf("models.Date: cannot scan %q", s)
	}
	parsed, err := ParseDate(s[:len(DateLayout)])
	if err != nil {
		return fmt.Errorf("models.Date: %w", err)
	}
	*d = parsed
	return nil
}
