package graph

import (
	"slices"
	"testing"

	"cpor/auth"
	"cpor/graph/model"
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

// TestEveryRoleHasAnEnumValue: the roles table pairs each role the service
// knows with the Role value of the same name, once, and leaves out no
// value of the enum.
func TestEveryRoleHasAnEnumValue(t *testing.T) {
	if len(roles) != len(model.AllRole) {
		t.Fatalf("%d roles mapped, the Role enum has %d values", len(roles), len(model.AllRole))
	}
	for i, r := range roles {
		if !r.role.Known() {
			t.Errorf("role %q is not one the service knows", r.role)
		}
		if string(r.role) != string(r.value) || r.value != model.AllRole[i] {
			t.Errorf("row %d maps %q to %q; want %q, the enum's value %d", i, r.role, r.value, model.AllRole[i], i)
		}
	}
	id := &auth.Identity{Roles: []auth.Role{"SALES_AGENT", auth.CustomerAdmin, auth.Reviewer, auth.GlobalAdmin, auth.Reviewer}}
	if got, want := assignedRoles(id), []model.Role{model.RoleGlobalAdmin, model.RoleReviewer, model.RoleCustomerAdmin}; !slices.Equal(got, want) {
		t.Errorf("assignedRoles(%v) = %v; want %v", id.Roles, got, want)
	}
	if got := assignedRoles(&auth.Identity{Roles: []auth.Role{"SALES_AGENT"}}); got == nil || len(got) != 0 {
		t.Errorf("an identity with no known role has assignedRoles %#v; want an empty list", got)
	}
}
