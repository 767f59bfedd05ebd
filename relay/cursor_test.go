package relay_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"cpor/relay"
)

func TestKeysetDecodeAcceptsWhatItsConnectionIssues(t *testing.T) {
	at := time.Date(2024, 3, 1, 9, 30, 0, 123456789, time.UTC)
	id := "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"
	for _, c := range []struct {
		ks  relay.Keyset
		cur relay.Cursor
	}{
		{relay.Keyset{TimeColumn: "created_at", KeyColumn: "id"}, relay.Cursor{Time: at, Key: id}},
		{relay.Keyset{TimeColumn: "created_at", KeyColumn: "id", Desc: true}, relay.Cursor{Time: at, Key: id}},
		{relay.Keyset{KeyColumn: "seq", IntKey: true}, relay.Cursor{Key: "0"}},
		{relay.Keyset{KeyColumn: "seq", IntKey: true}, relay.Cursor{Key: "9223372036854775807"}},
		{relay.Keyset{TimeColumn: "at", KeyColumn: "id", IntKey: true}, relay.Cursor{Time: at, Key: "42"}},
		{relay.Keyset{KeyColumn: "id"}, relay.Cursor{Key: id}},
	} {
		got, err := c.ks.Decode(c.cur.Encode(), "after")
		if err != nil || got.Key != c.cur.Key || !got.Time.Equal(c.cur.Time) {
			t.Errorf("%+v.Decode(%+v) = %+v, %v", c.ks, c.cur, got, err)
		}
	}
}

// A cursor this API did not issue for the connection is INVALID_INPUT on
// the argument: before the fix, a key that is not a UUID reached PostgreSQL
// and failed there (INTERNAL).
func TestKeysetDecodeRefusesCursorsItDidNotIssue(t *testing.T) {
	at := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	id := "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"
	timed := relay.Keyset{TimeColumn: "created_at", KeyColumn: "id"}
	seq := relay.Keyset{KeyColumn: "seq", IntKey: true}
	good := relay.Cursor{Time: at, Key: id}.Encode()
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name string
		ks   relay.Keyset
		s    string
	}{
		{"not base64", timed, "%%%"},
		{"standard base64 with padding", timed, base64.StdEncoding.EncodeToString([]byte("t|2024-03-01T09:30:00Z|" + id))},
		{"a line break the decoder skips", timed, good[:10] + "\n" + good[10:]},
		{"trailing garbage", timed, good + "AA"},
		{"unused bits set", timed, flipUnusedBit(good)},
		{"key not a UUID", timed, relay.Cursor{Time: at, Key: "not-a-uuid"}.Encode()},
		{"key a UUID with garbage", timed, relay.Cursor{Time: at, Key: id + "|x"}.Encode()},
		{"key in upper case", timed, relay.Cursor{Time: at, Key: strings.ToUpper(id)}.Encode()},
		{"key in braces", timed, relay.Cursor{Time: at, Key: "{" + id + "}"}.Encode()},
		{"key with SQL", timed, relay.Cursor{Time: at, Key: "' OR 1=1 --"}.Encode()},
		{"key with a NUL", timed, relay.Cursor{Time: at, Key: id + "\x00"}.Encode()},
		{"untimed cursor for a timed order", timed, relay.Cursor{Key: id}.Encode()},
		{"timed cursor for an untimed order", seq, relay.Cursor{Time: at, Key: "42"}.Encode()},
		{"zero time", timed, raw("t|0001-01-01T00:00:00Z|" + id)},
		{"integer key not a number", seq, relay.Cursor{Key: id}.Encode()},
		{"integer key negative", seq, relay.Cursor{Key: "-1"}.Encode()},
		{"integer key with a sign", seq, relay.Cursor{Key: "+42"}.Encode()},
		{"integer key with leading zeros", seq, relay.Cursor{Key: "042"}.Encode()},
		{"integer key over int64", seq, relay.Cursor{Key: "9223372036854775808"}.Encode()},
		{"a global ID", timed, relay.GlobalID(relay.TypeClaim, id)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.ks.Decode(c.s, "after")
			wantInvalid(t, err, "after")
			// Paging with it fails the same way before the query is touched:
			// a nil database is enough.
			_, err = relay.Fetch[pagedRow](nil, c.ks, relay.Args{Before: &c.s}, nil)
			wantInvalid(t, err, "before")
		})
	}
}

// flipUnusedBit changes the last character of an unpadded base64 string
// whose length is not a multiple of 4 in a bit the decoded bytes do not
// use: a lenient decoder reads the same bytes.
func flipUnusedBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}
