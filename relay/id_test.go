package relay_test

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/relay"
)

// canonicalGUID is the only form ParseGUID returns and the form every input
// it accepts must have once braces, spaces and case are set aside.
var canonicalGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestGlobalIDRoundTrip(t *testing.T) {
	id := uuid.MustParse("8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e")
	gid := relay.UUIDGlobalID(relay.TypeClaim, id)
	if strings.ContainsAny(gid, "=+/:") {
		t.Errorf("global ID %q is not URL-safe unpadded base64", gid)
	}
	if strings.Contains(gid, id.String()) {
		t.Errorf("global ID %q shows its key in the clear", gid)
	}
	typ, key, ok := relay.ParseGlobalID(gid)
	if !ok || typ != relay.TypeClaim || key != id.String() {
		t.Fatalf("ParseGlobalID(%q) = %q, %q, %v", gid, typ, key, ok)
	}
	got, err := relay.ParseUUID(gid, relay.TypeClaim, "id")
	if err != nil || got != id {
		t.Fatalf("ParseUUID = %v, %v; want %v", got, err, id)
	}
	n, err := relay.ParseInt64(relay.GlobalID(relay.TypeClaimEvent, "42"), relay.TypeClaimEvent, "id")
	if err != nil || n != 42 {
		t.Fatalf("ParseInt64 = %d, %v; want 42", n, err)
	}
}

func TestParseUUIDErrors(t *testing.T) {
	id := uuid.MustParse("8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e")
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, id string
	}{
		{"empty", ""},
		{"not base64", "!!!not base64!!!"},
		{"plain UUID, not a global ID", id.String()},
		{"another type", relay.UUIDGlobalID(relay.TypeDocument, id)},
		{"type only", raw(relay.TypeClaim + ":")},
		{"key only", raw(":" + id.String())},
		{"no separator", raw(relay.TypeClaim + id.String())},
		{"key not a UUID", relay.GlobalID(relay.TypeClaim, "42")},
		{"key in upper case", relay.GlobalID(relay.TypeClaim, strings.ToUpper(id.String()))},
		{"key in braces", relay.GlobalID(relay.TypeClaim, "{"+id.String()+"}")},
		{"key without hyphens", relay.GlobalID(relay.TypeClaim, strings.ReplaceAll(id.String(), "-", ""))},
		{"key as URN", relay.GlobalID(relay.TypeClaim, "urn:uuid:"+id.String())},
		{"key with a trailing space", relay.GlobalID(relay.TypeClaim, id.String()+" ")},
		{"type differs in case", relay.UUIDGlobalID(strings.ToLower(relay.TypeClaim), id)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := relay.ParseUUID(c.id, relay.TypeClaim, "input.claimId")
			wantInvalid(t, err, "input.claimId")
			if got != uuid.Nil {
				t.Errorf("ParseUUID returned %v with its error", got)
			}
		})
	}
}

func TestParseInt64Errors(t *testing.T) {
	for _, key := range []string{"", "0", "-1", "+1", "01", "1.5", "9223372036854775808", "abc", " 1"} {
		t.Run(key, func(t *testing.T) {
			_, err := relay.ParseInt64(relay.GlobalID(relay.TypeClaimEvent, key), relay.TypeClaimEvent, "id")
			wantInvalid(t, err, "id")
		})
	}
	_, err := relay.ParseInt64(relay.GlobalID(relay.TypeComment, "1"), relay.TypeClaimEvent, "id")
	wantInvalid(t, err, "id")
}

func TestParseGUID(t *testing.T) {
	const canon = "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"
	good := []string{
		canon,
		strings.ToUpper(canon),
		"8C6D5E2A-1b3f-4A5C-9d7e-0F1A2B3C4D5E",
		"{" + canon + "}",
		"{" + strings.ToUpper(canon) + "}",
		"  " + canon + "\t\n",
		" {" + canon + "} ",
	}
	for _, in := range good {
		t.Run("good "+in, func(t *testing.T) {
			u, err := relay.ParseGUID(in, "subscriptionId", "subscription ID")
			if err != nil {
				t.Fatalf("ParseGUID(%q): %v", in, err)
			}
			if u.String() != canon {
				t.Fatalf("ParseGUID(%q) = %s; want %s", in, u, canon)
			}
		})
	}
	bad := []string{
		"",
		"   ",
		"8c6d5e2a1b3f4a5c9d7e0f1a2b3c4d5e",          // bare hex digits
		"urn:uuid:" + canon,                         // URN form
		"{" + canon,                                 // unbalanced braces
		canon + "}",                                 //
		"{{" + canon + "}}",                         //
		"(" + canon + ")",                           //
		"8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5",       // one digit short
		"8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e0",     // one digit long
		"8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5g",      // not hex
		"8c6d5e2a_1b3f_4a5c_9d7e_0f1a2b3c4d5e",      // wrong separators
		"8c6d5e2a-1b3f-4a5c-9d7e0-f1a2b3c4d5e",      // hyphen moved
		"{8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e }",   // space inside the braces
		"contoso.onmicrosoft.com",                   //
		"00000000-0000-0000-0000-00000000000\u00e9", // non-ASCII
		"８c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e",      // full-width digit
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			u, err := relay.ParseGUID(in, "input.customerTenantId", "tenant ID")
			wantInvalid(t, err, "input.customerTenantId")
			if u != uuid.Nil {
				t.Errorf("ParseGUID returned %v with its error", u)
			}
			var e *apperr.Error
			errors.As(err, &e)
			if !strings.Contains(e.Message, "tenant ID") || !strings.Contains(e.Message, "GUID") {
				t.Errorf("message %q does not say what to enter", e.Message)
			}
		})
	}
}

func TestCursorRoundTripAndErrors(t *testing.T) {
	ts := time.Date(2024, 3, 1, 9, 30, 0, 123456000, time.FixedZone("CET", 3600))
	for _, c := range []relay.Cursor{
		{Key: "42"},
		{Key: "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"},
		{Time: ts, Key: "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"},
		{Time: ts, Key: "a|b"},
	} {
		enc := c.Encode()
		if strings.ContainsAny(enc, "=+/") {
			t.Errorf("cursor %q is not URL-safe unpadded base64", enc)
		}
		got, err := relay.DecodeCursor(enc, "after")
		if err != nil {
			t.Fatalf("DecodeCursor(Encode(%+v)): %v", c, err)
		}
		if got.Key != c.Key || !got.Time.Equal(c.Time) || (!got.Time.IsZero() && got.Time.Location() != time.UTC) {
			t.Fatalf("round trip of %+v gave %+v", c, got)
		}
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		"",
		"%%%",
		base64.StdEncoding.EncodeToString([]byte("k|42")) + "==", // padded standard base64
		raw("k|"),
		raw("k"),
		raw("42"),
		raw("x|42"),
		raw("t|2024-03-01T09:30:00Z|"),
		raw("t|2024-03-01T09:30:00Z"),
		raw("t|yesterday|42"),
		raw("t|2024-13-01T09:30:00Z|42"),
		raw("t||42"),
		raw("t|0000-01-01T00:00:00+01:00|42"), // year -1 in UTC: Encode could not write it back
		raw("t|9999-12-31T23:59:59-01:00|42"), // year 10000 in UTC
		raw("t|2024-03-01T10:30:00+01:00|42"), // not the UTC form Encode writes
		raw("t|2024-03-01T09:30:00.500000000Z|42"),
		relay.GlobalID(relay.TypeClaim, "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e"), // an ID is not a cursor
	} {
		t.Run(s, func(t *testing.T) {
			_, err := relay.DecodeCursor(s, "before")
			wantInvalid(t, err, "before")
		})
	}
}

func FuzzParseGlobalID(f *testing.F) {
	f.Add(relay.TypeClaim, "8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e", "")
	f.Add(relay.TypeClaimEvent, "42", relay.GlobalID(relay.TypeClaimEvent, "42"))
	f.Add("", "x", "Q2xhaW06")
	f.Add("a:b", "c", "YTpiOmM=")
	f.Add("Claim", "k:with:colons", "!!")
	f.Add("\x00", "\xff\xfe", "Q2xhaW06eA\n")
	f.Fuzz(func(t *testing.T, typ, key, arbitrary string) {
		// Every global ID the service makes reads back as what it was made of.
		gid := relay.GlobalID(typ, key)
		gotTyp, gotKey, ok := relay.ParseGlobalID(gid)
		readable := typ != "" && key != "" && !strings.Contains(typ, ":")
		if readable && (!ok || gotTyp != typ || gotKey != key) {
			t.Fatalf("ParseGlobalID(GlobalID(%q, %q)) = %q, %q, %v", typ, key, gotTyp, gotKey, ok)
		}
		if ok && gotTyp+":"+gotKey != typ+":"+key {
			t.Fatalf("ParseGlobalID(GlobalID(%q, %q)) = %q, %q: not the same text", typ, key, gotTyp, gotKey)
		}
		if !readable && ok && (gotTyp == "" || gotKey == "") {
			t.Fatalf("ParseGlobalID accepted an empty part: %q, %q", gotTyp, gotKey)
		}
		// ParseUUID accepts exactly the global IDs whose key is a canonical UUID.
		u, err := relay.ParseUUID(gid, typ, "id")
		if readable && canonicalGUID.MatchString(key) {
			if err != nil || u.String() != key {
				t.Fatalf("ParseUUID(GlobalID(%q, %q)) = %v, %v", typ, key, u, err)
			}
		} else if err == nil {
			t.Fatalf("ParseUUID(GlobalID(%q, %q)) accepted a non-canonical key: %v", typ, key, u)
		} else if apperr.CodeOf(err) != apperr.InvalidInput {
			t.Fatalf("ParseUUID error %v is not INVALID_INPUT", err)
		}

		// Any string: parsing never panics, and what it accepts is a
		// non-empty type without a colon and a non-empty key that the
		// service's own encoding reads back identically.
		typ2, key2, ok2 := relay.ParseGlobalID(arbitrary)
		if !ok2 {
			return
		}
		if typ2 == "" || key2 == "" || strings.Contains(typ2, ":") {
			t.Fatalf("ParseGlobalID(%q) = %q, %q, true", arbitrary, typ2, key2)
		}
		typ3, key3, ok3 := relay.ParseGlobalID(relay.GlobalID(typ2, key2))
		if !ok3 || typ3 != typ2 || key3 != key2 {
			t.Fatalf("re-encoding %q, %q read back as %q, %q, %v", typ2, key2, typ3, key3, ok3)
		}
	})
}

func FuzzParseGUID(f *testing.F) {
	f.Add("8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e")
	f.Add("{8C6D5E2A-1B3F-4A5C-9D7E-0F1A2B3C4D5E}")
	f.Add(" 8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e\n")
	f.Add("8c6d5e2a1b3f4a5c9d7e0f1a2b3c4d5e")
	f.Add("urn:uuid:8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e")
	f.Add("{8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e")
	f.Add("00000000-0000-0000-0000-000000000000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := relay.ParseGUID(s, "subscriptionId", "subscription ID")
		if err != nil {
			if apperr.CodeOf(err) != apperr.InvalidInput {
				t.Fatalf("ParseGUID(%q) error %v is not INVALID_INPUT", s, err)
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Field != "subscriptionId" {
				t.Fatalf("ParseGUID(%q) error %v does not name the field", s, err)
			}
			if u != uuid.Nil {
				t.Fatalf("ParseGUID(%q) returned %v with an error", s, u)
			}
			return
		}
		// What was accepted is a hyphenated GUID, optionally in one pair of
		// braces, in any case, with surrounding spaces: nothing else.
		core := strings.TrimSpace(s)
		if strings.HasPrefix(core, "{") {
			if !strings.HasSuffix(core, "}") {
				t.Fatalf("ParseGUID accepted %q with an unbalanced brace", s)
			}
			core = core[1 : len(core)-1]
		}
		if !canonicalGUID.MatchString(strings.ToLower(core)) {
			t.Fatalf("ParseGUID accepted %q, which is not a GUID", s)
		}
		if strings.ToLower(core) != u.String() {
			t.Fatalf("ParseGUID(%q) = %s; not the GUID given", s, u)
		}
		// Every accepted value round-trips in each spelling the doc allows.
		for _, again := range []string{u.String(), strings.ToUpper(u.String()), "{" + u.String() + "}", " " + u.String() + " "} {
			v, err := relay.ParseGUID(again, "subscriptionId", "subscription ID")
			if err != nil || v != u {
				t.Fatalf("ParseGUID(%q) = %v, %v; want %v", again, v, err, u)
			}
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("42", int64(0), false, "")
	f.Add("8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e", int64(1709281800123456789), true, relay.Cursor{Key: "7"}.Encode())
	f.Add("a|b", int64(-1), true, "dHwyMDI0LTAzLTAxVDA5OjMwOjAwWnw0Mg")
	f.Add("", int64(1), true, "k|")
	f.Add("\xff", int64(-6795364578871345152), true, "dHwwMDAxLTAxLTAxVDAwOjAwOjAwWnx4")
	f.Add("x", int64(0), false, "dHwwMDAwLTAxLTAxVDAwOjAwOjAwKzAxOjAwfHg") // t|0000-01-01T00:00:00+01:00|x
	f.Fuzz(func(t *testing.T, key string, nanos int64, timed bool, arbitrary string) {
		// Encode then decode gives the cursor back, for every non-empty key.
		var c relay.Cursor
		c.Key = key
		if timed {
			c.Time = time.Unix(0, nanos)
		}
		enc := c.Encode()
		got, err := relay.DecodeCursor(enc, "after")
		if key == "" {
			if err == nil {
				t.Fatalf("a cursor with an empty key decoded: %+v", got)
			}
		} else {
			if err != nil {
				t.Fatalf("DecodeCursor(Encode(%+v)) = %v", c, err)
			}
			if got.Key != c.Key || !got.Time.Equal(c.Time) || got.Time.IsZero() != c.Time.IsZero() {
				t.Fatalf("DecodeCursor(Encode(%+v)) = %+v", c, got)
			}
		}

		// Any string decodes or fails with INVALID_INPUT on the field; what
		// decodes is a usable position that re-encodes to itself.
		d, err := relay.DecodeCursor(arbitrary, "before")
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.InvalidInput || e.Field != "before" {
				t.Fatalf("DecodeCursor(%q) error %v is not INVALID_INPUT on before", arbitrary, err)
			}
			return
		}
		if d.Key == "" {
			t.Fatalf("DecodeCursor(%q) gave an empty key", arbitrary)
		}
		if !d.Time.IsZero() && d.Time.Location() != time.UTC {
			t.Fatalf("DecodeCursor(%q) gave a time in %v, not UTC", arbitrary, d.Time.Location())
		}
		again, err := relay.DecodeCursor(d.Encode(), "before")
		if err != nil || again.Key != d.Key || !again.Time.Equal(d.Time) {
			t.Fatalf("re-encoding %+v read back as %+v, %v", d, again, err)
		}
	})
}
