package httpapi_test

import (
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// TestHistoryNamesItsWorkflowEvents: a status change's history entry says
// which workflow event made it as the WorkflowEvent enum, beside the
// deprecated name.
func TestHistoryNamesItsWorkflowEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "typed-events")
		type entry struct {
			Type          string
			WorkflowEvent *string
			Event         *string
		}
		got := run[struct {
			History struct{ Nodes []entry }
		}](t, srv.Client(t, "rita"), `query History($id: ID!) { claim(id: $id) { history(first: 50) { nodes { type workflowEvent event } } } }`,
			map[string]any{"id": gid(claim)}, "claim")
		found := false
		for _, e := range got.History.Nodes {
			switch {
			case e.Type == "STATUS_CHANGED":
				found = found || (e.WorkflowEvent != nil && *e.WorkflowEvent == "SUBMIT" && e.Event != nil && *e.Event == "submit")
			case e.WorkflowEvent != nil:
				t.Errorf("a %s entry names workflow event %s", e.Type, *e.WorkflowEvent)
			}
		}
		if !found {
			t.Errorf("no STATUS_CHANGED entry with workflowEvent SUBMIT: %+v", got.History.Nodes)
		}
	})
}
