package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"cpor/auth"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// TestViewerAssignedRolesAreTheKnownRolesInEnumOrder: assignedRoles lists
// the roles the service knows, each once, in the Role enum's order, and
// leaves out the others; the deprecated roles lists the token's roles as
// they came. Each known role is asked alone beside an unknown one, so a
// role mapped to another value fails.
func TestViewerAssignedRolesAreTheKnownRolesInEnumOrder(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		cases := []struct {
			name     string
			roles    []auth.Role
			assigned []string
		}{
			{"none known", []auth.Role{"SALES_AGENT"}, []string{}},
			{"no roles", nil, []string{}},
			{"global admin", []auth.Role{"SALES_AGENT", auth.GlobalAdmin}, []string{"GLOBAL_ADMIN"}},
			{"billing admin", []auth.Role{"SALES_AGENT", auth.BillingAdmin}, []string{"BILLING_ADMIN"}},
			{"incentives admin", []auth.Role{"SALES_AGENT", auth.IncentivesAdmin}, []string{"INCENTIVES_ADMIN"}},
			{"reviewer", []auth.Role{"SALES_AGENT", auth.Reviewer}, []string{"REVIEWER"}},
			{"operator", []auth.Role{"SALES_AGENT", auth.Operator}, []string{"OPERATOR"}},
			{"customer admin", []auth.Role{"SALES_AGENT", auth.CustomerAdmin}, []string{"CUSTOMER_ADMIN"}},
			{"out of order, twice, with an unknown one",
				[]auth.Role{auth.CustomerAdmin, "AUDITOR", auth.Reviewer, auth.GlobalAdmin, auth.Reviewer},
				[]string{"GLOBAL_ADMIN", "REVIEWER", "CUSTOMER_ADMIN"}},
		}
		for _, tc := range cases {
			id := auth.Identity{UserID: "roles@contoso.example", Name: "Roles", OrganizationID: contoso, Roles: tc.roles}
			c := &apitest.Client{URL: srv.URL, Token: apitest.TokenFor(t, id, time.Hour)}
			got := run[struct {
				AssignedRoles []string
				Roles         []string
			}](t, c, `query MyRoles { viewer { assignedRoles roles } }`, nil, "viewer")
			if got.AssignedRoles == nil || !slices.Equal(got.AssignedRoles, tc.assigned) {
				t.Errorf("%s: assignedRoles %#v; want %#v", tc.name, got.AssignedRoles, tc.assigned)
			}
			want := []string{}
			for _, r := range tc.roles {
				want = append(want, string(r))
			}
			if got.Roles == nil || !slices.Equal(got.Roles, want) {
				t.Errorf("%s: roles %#v; want %#v", tc.name, got.Roles, want)
			}
		}
	})
}

// TestActorUserIDIsTheTokenSubject: a history entry's actor and a comment's
// author give the user's ID as userId, and the deprecated id gives the same;
// the service itself is `system`.
func TestActorUserIDIsTheTokenSubject(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "typed-actors")
		type who struct{ UserID, ID, Kind string }
		got := run[struct {
			History struct {
				Nodes []struct {
					Type, WorkflowEvent string
					Actor               who
				}
			}
			Comments struct {
				Nodes []struct {
					Kind   string
					Author who
				}
			}
		}](t, srv.Client(t, "rita"), `query Actors($id: ID!) { claim(id: $id) {
			history(first: 50) { nodes { type workflowEvent actor { userId id kind } } }
			comments(first: 50) { nodes { kind author { userId id kind } } } } }`,
			map[string]any{"id": gid(claim)}, "claim")

		ada := who{UserID: "ada@contoso.example", ID: "ada@contoso.example", Kind: "PARTNER"}
		submitted := false
		for _, e := range got.History.Nodes {
			if e.Actor.UserID != e.Actor.ID {
				t.Errorf("a %s entry's actor has userId %q but id %q", e.Type, e.Actor.UserID, e.Actor.ID)
			}
			if e.Type == "STATUS_CHANGED" && e.WorkflowEvent == "SUBMIT" {
				submitted = true
				if e.Actor != ada {
					t.Errorf("the submission's actor is %+v; want %+v", e.Actor, ada)
				}
			}
		}
		if !submitted {
			t.Errorf("no STATUS_CHANGED entry for the submission: %+v", got.History.Nodes)
		}

		system := who{UserID: "system", ID: "system", Kind: "SYSTEM"}
		fromSystem := false
		for _, c := range got.Comments.Nodes {
			if c.Kind == "SYSTEM" {
				fromSystem = true
				if c.Author != system {
					t.Errorf("a system comment's author is %+v; want %+v", c.Author, system)
				}
			}
		}
		if !fromSystem {
			t.Errorf("no system comment on the submitted claim: %+v", got.Comments.Nodes)
		}
	})
}
