package httpapi

import (
	"fmt"
	"testing"
)

// TestOperationNameLabelsAreBounded: clients choose operation names, so
// the metrics keep only well-formed ones, and only so many.
func TestOperationNameLabelsAreBounded(t *testing.T) {
	var n operationNames
	for name, want := range map[string]string{
		"": "anonymous", "ClaimsPage": "ClaimsPage", "has space": "other", "x\x00": "other",
		"AVeryLongNameThatGoesOnAndOnPastSixtyFourCharactersOfIdentifierText": "other",
	} {
		if got := n.label(name); got != want {
			t.Errorf("label(%q) = %q, want %q", name, got, want)
		}
	}
	for i := range 2 * maxOperationNames {
		n.label(fmt.Sprintf("Op%d", i))
	}
	if got := n.label("ANewOneTooMany"); got != "other" {
		t.Errorf("past %d names, a new one is %q, want other", maxOperationNames, got)
	}
	if got := n.label("ClaimsPage"); got != "ClaimsPage" {
		t.Errorf("a name seen before the bound is %q", got)
	}
}
