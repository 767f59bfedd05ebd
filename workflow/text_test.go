package workflow_test

// What reviewers and customers write with a decision keeps the reason rule
// (textrule.Reason): bad text is INVALID_INPUT on the input's field and
// changes nothing. Before, a NUL failed on PostgreSQL (INTERNAL) and a
// reason had no length limit.

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
	"cpor/textrule"
	"cpor/workflow"
)

var badReasons = map[string]string{
	"NUL":                "Proof\x00missing",
	"escape":             "Proof\x1b[2Jmissing",
	"C1 control":         "Proof\u009bmissing",
	"direction override": "Proof\u202emissing",
	"invalid UTF-8":      "Proof\xffmissing",
	"over the limit":     strings.Repeat("x", textrule.Reason.MaxChars+1),
	"200 KiB":            strings.Repeat("x", 200<<10),
}

func TestDecisionTextIsChecked(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		underReview := f.claimIn(workflow.UnderReview, "text-review")
		arbitrated := f.claimIn(workflow.Arbitration, "text-arbitration")
		caseID := *f.claim(arbitrated).ArbitrationCaseID
		assoc := f.declinable()
		rita, chloe := testkit.As("rita"), testkit.As("chloe")
		transition := func(fire func(context.Context, workflow.Request) (*models.Claim, error), id uuid.UUID) func(string) error {
			return func(text string) error {
				_, err := fire(rita, workflow.Request{ClaimID: id, Reason: text})
				return err
			}
		}
		calls := []struct {
			name, field string
			call        func(text string) error
		}{
			{"requestInformation", "message", transition(f.w.Workflow.RequestInformation, underReview)},
			{"escalate", "reason", transition(f.w.Workflow.Escalate, underReview)},
			{"approve", "note", transition(f.w.Workflow.Approve, underReview)},
			{"reject", "reason", transition(f.w.Workflow.Reject, underReview)},
			{"resolveArbitration", "reason", func(text string) error {
				_, err := f.w.Workflow.ResolveArbitration(rita, caseID, arbitrated, text)
				return err
			}},
			{"declineAssociation", "reason", func(text string) error {
				_, err := f.w.Workflow.DeclineAssociation(chloe, assoc, text)
				return err
			}},
		}
		before := f.w.Snapshot(t)
		for _, c := range calls {
			for name, text := range badReasons {
				t.Run(c.name+"/"+name, func(t *testing.T) {
					expectError(t, c.call(text), apperr.InvalidInput, c.field)
				})
			}
		}
		f.w.Unchanged(t, before, "decisions with bad text")

		// A reason may span lines, up to the limit.
		long := strings.Repeat("y", textrule.Reason.MaxChars-20) + "\n\tSee the thread."
		if err := calls[3].call(long); err != nil {
			t.Fatalf("reject with a multi-line reason at the limit: %v", err)
		}
		if got := f.claim(underReview).DecisionReason; got != long {
			t.Errorf("decision reason stored as %.40q…", got)
		}
	})
}

// The input rule runs after the caller's role: someone who may not decide
// learns nothing from it.
func TestDecisionTextIsCheckedAfterTheRole(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		id := f.claimIn(workflow.UnderReview, "text-role")
		for _, fire := range []func(context.Context, workflow.Request) (*models.Claim, error){
			f.w.Workflow.RequestInformation, f.w.Workflow.Escalate, f.w.Workflow.Approve, f.w.Workflow.Reject,
		} {
			_, err := fire(testkit.As("ada"), workflow.Request{ClaimID: id, Reason: "\x00"})
			expectError(t, err, apperr.Forbidden, "")
		}
		_, err := f.w.Workflow.DeclineAssociation(testkit.As("rita"), uuid.New(), "\x00")
		expectError(t, err, apperr.Forbidden, "")
	})
}

// declinable is the active association on the demo customer Northwind's
// tenant, which its admin chloe may decline.
func (f *fx) declinable() uuid.UUID {
	f.t.Helper()
	var a models.Association
	claimID := f.demoClaim(demo.Contoso, models.Approved)
	if err := f.w.DB.Where("claim_id = ? AND ended_at IS NULL", claimID).Take(&a).Error; err != nil {
		f.t.Fatalf("declinable association: %v", err)
	}
	return a.ID
}
