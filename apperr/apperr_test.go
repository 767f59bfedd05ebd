package apperr_test

import (
	"errors"
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
