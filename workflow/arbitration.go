package workflow

import (
	"cpor/claims"
	"cpor/models"
)

// competition is what stands against a claim on its customer, product and
// activity: other organisations' open claims and another organisation's
// active association; and the claim's own organisation's active
// association, which its approval supersedes.
type competition struct {
	claims []models.Claim // ID and Status only: escalate reads each again as it locks it
	holder *models.Association
	own    *models.Association // ID only
}

func (c competition) none() bool { return len(c.claims) == 0 && c.holder == nil }

const arbitrationNotice = "Another partner has also claimed this customer association, so the claim is in arbitration. " +
	"A reviewer weighs each claim's most recent proof of execution; the review may take longer than the usual five business days. " +
	"You can add proof of execution and answer the reviewer in this thread."

// escalate fires escalate on the change's claim, which competition comp
// stands against, in the role by.
func (s *Service) escalate(cc *claimChange, comp competition, by Role) error {
	cc.comp, cc.compRead = comp, true
	return s.fireOn(cc, Escalate, by)
}

// checkEscalate puts the claim in the one open case of its customer,
// product and activity, opening it if there is none; a claim pulled in by
// another's escalation joins that one's case.
func (s *Service) checkEscalate(cc *claimChange) error {
	if cc.joining {
		return nil
	}
	if !cc.compRead {
		comp, err := s.caseRows.competition(cc.tx.DB, cc.claim)
		if err != nil {
			return err
		}
		cc.comp, cc.compRead = comp, true
	}
	cs, err := s.caseRows.openFor(cc.tx.DB, cc.claim, cc.comp.holder, cc.now)
	if err != nil {
		return err
	}
	cc.claim.ArbitrationCaseID = &cs.ID
	return nil
}

// afterEscalate posts the notice, and brings every competing claim under
// review into the case with the claim that opened or joined it.
func (s *Service) afterEscalate(cc *claimChange) error {
	if err := s.systemComment(cc.change, cc.claim, arbitrationNotice); err != nil {
		return err
	}
	if cc.joining {
		return nil
	}
	for i := range cc.comp.claims {
		other := &cc.comp.claims[i]
		if other.Status != models.UnderReview {
			continue // submitted claims join when their review starts; arbitrated ones are in the case
		}
		locked, err := claims.LoadForSystem(cc.tx.DB, other.ID, claims.Change{}) // the key is held
		if err != nil {
			return err
		}
		if locked.Status != models.UnderReview {
			continue
		}
		joining := cc.on(&locked.Claim, "Another partner organisation claims this association.")
		joining.joining, locked.ArbitrationCaseID = true, cc.claim.ArbitrationCaseID
		if err := s.fireOn(joining, Escalate, RoleSystem); err != nil {
			return err
		}
	}
	return nil
}
