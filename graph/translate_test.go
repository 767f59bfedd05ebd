package graph

import (
	"testing"

	"cpor/workflow"
)

// TestEveryClaimEventHasAnEnumValue: every event of the claim machine
// reads as a WorkflowEvent value, so a live status change never fails to
// render one.
func TestEveryClaimEventHasAnEnumValue(t *testing.T) {
	events := []workflow.Event{workflow.Submit, workflow.StartReview, workflow.RequestInformation, workflow.Respond,
		workflow.Escalate, workflow.Deescalate, workflow.Approve, workflow.Reject, workflow.Lapse, workflow.Withdraw,
		workflow.Expire, workflow.CustomerDecline}
	for _, e := range events {
		if workflowEvent(string(e)) == nil {
			t.Errorf("workflow event %q has no WorkflowEvent value", e)
		}
	}
	if got := workflowEvent("startReview"); got == nil || *got != "START_REVIEW" {
		t.Errorf("startReview reads as %v", got)
	}
	for _, name := range []string{"", "end", "nonsense"} {
		if got := workflowEvent(name); got != nil {
			t.Errorf("%q reads as %s", name, *got)
		}
	}
}
