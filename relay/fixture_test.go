package relay_test

// The row type and assertions more than one relay test file uses.

import (
	"errors"
	"testing"
	"time"

	"cpor/apperr"
)

// wantInvalid fails unless err is one INVALID_INPUT apperr naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want INVALID_INPUT on %q", field)
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *apperr.Error", err, err)
	}
	if e.Code != apperr.InvalidInput || e.Field != field || e.Message == "" {
		t.Fatalf("error = %+v; want INVALID_INPUT on %q with a message", e, field)
	}
}

// pagedRow is a throwaway table for paging: a time that repeats (so the key
// breaks ties) and an integer key.
type pagedRow struct {
	ID      int64 `gorm:"primaryKey;autoIncrement:false"`
	At      time.Time
	Comment string
}

func (pagedRow) TableName() string { return "relay_test_rows" }
