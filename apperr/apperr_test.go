package apperr_test

import (
	"errors"
	"strings"
	"testing"

	"cpor/apperr"
)

func TestListAddCollectsCodedErrors(t *testing.T) {
	var l apperr.List
	l.Add(nil)
	if l.Err() != nil {
		t.Fatalf("nil added an error: %v", l)
	}
	l.Add(apperr.Invalidf("a", "first"))
	l.Add(apperr.List{apperr.Invalidf("b", "second"), apperr.New(apperr.StaleClaim, "c", "third")})
	l.Add(errors.New("not a rule violation"))
	if len(l) != 3 || l[0].Field != "a" || l[1].Field != "b" || l[2].Code != apperr.StaleClaim {
		t.Fatalf("list = %v", l)
	}
}

func TestQuoteCutsLongValues(t *testing.T) {
	for in, want := range map[string]string{
		"abc":                    `"abc"`,
		"a\x00b":                 `"a\x00b"`,
		strings.Repeat("é", 64):  `"` + strings.Repeat("é", 64) + `"`,
		strings.Repeat("é", 65):  `"` + strings.Repeat("é", 64) + `"…`,
		strings.Repeat("x", 1e6): `"` + strings.Repeat("x", 64) + `"…`,
	} {
		if got := apperr.Quote(in); got != want {
			t.Errorf("Quote(%.20q…) = %.80s", in, got)
		}
	}
}
