package relay

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
)

// Cursor is a position in a keyset order: the sort value (a time, or none)
// and the row's unique key.
type Cursor struct {
	Time time.Time
	Key  string
}

// Encode returns the opaque cursor string.
func (c Cursor) Encode() string {
	var s string
	if c.Time.IsZero() {
		s = "k|" + c.Key
	} else {
		s = "t|" + c.Time.UTC().Format(time.RFC3339Nano) + "|" + c.Key
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// SeqCursor is the cursor of a position in a sequence (a claim event's
// sequence number), as live events and their resume points carry it.
func SeqCursor(seq int64) string {
	return Cursor{Key: strconv.FormatInt(seq, 10)}.Encode()
}

// DecodeCursor reads a cursor produced by Encode: only the exact string
// Encode writes is accepted, so no other spelling (padding, line breaks,
// stray bits, another time zone) names the same position.
func DecodeCursor(s, field string) (Cursor, error) {
	c, ok := decode(s)
	if !ok || c.Encode() != s {
		return Cursor{}, notACursor(s, field)
	}
	return c, nil
}

func decode(s string) (Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	// The key comes last and may itself contain "|"; the time never does.
	kind, rest, _ := strings.Cut(string(raw), "|")
	switch kind {
	case "k":
		return Cursor{Key: rest}, rest != ""
	case "t":
		ts, key, ok := strings.Cut(rest, "|")
		if !ok || key == "" {
			return Cursor{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		// A zero time would encode as an untimed cursor.
		return Cursor{Time: t.UTC(), Key: key}, err == nil && !t.IsZero()
	}
	return Cursor{}, false
}

// Decode reads an after or before argument as a position in this keyset:
// a cursor of this API (DecodeCursor) whose shape is this keyset's, timed
// for an order with a time column (or untimed, for a row whose nullable
// time is NULL) and untimed otherwise, with a key in the
// key column's canonical form (a UUID, or a non-negative integer). Anything
// else is INVALID_INPUT on field and never reaches the database.
func (ks Keyset) Decode(s, field string) (Cursor, error) {
	c, err := DecodeCursor(s, field)
	if err != nil {
		return Cursor{}, err
	}
	untimedOK := ks.TimeColumn == "" || ks.NullsLast
	timedOK := ks.TimeColumn != ""
	if (c.Time.IsZero() && !untimedOK) || (!c.Time.IsZero() && !timedOK) || !ks.canonicalKey(c.Key) {
		return Cursor{}, notACursor(s, field)
	}
	return c, nil
}

func (ks Keyset) canonicalKey(key string) bool {
	if ks.IntKey {
		n, err := strconv.ParseInt(key, 10, 64)
		return err == nil && n >= 0 && strconv.FormatInt(n, 10) == key
	}
	u, err := uuid.Parse(key)
	return err == nil && u.String() == key
}

func notACursor(s, field string) error {
	return apperr.Invalidf(field, "%s is not a cursor of this connection; use an endCursor or startCursor it returned.", apperr.Quote(s))
}
