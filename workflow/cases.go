package workflow

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/claims"
	"cpor/models"
	"cpor/storage"
	"cpor/textrule"
)

// The arbitration case's events and states.
const (
	Resolve Event = "resolve"
	Dismiss Event = "dismiss"
	Close   Event = "close"

	CaseOpen     State = "OPEN"
	CaseResolved State = "RESOLVED"
	CaseClosed   State = "CLOSED"
)

// caseChange is a transition of one arbitration case in progress.
type caseChange struct {
	*change
	cs *models.ArbitrationCase
	// winner is the claim the case is decided for: one of its claims, or
	// the holder's; nil when nobody wins.
	winner *uuid.UUID
	reason string
	// remaining is the one claim left when withdrawals close the case.
	remaining *models.Claim
}

// caseMachine declares the arbitration case: it opens with the first
// escalation, is resolved for a winner by a reviewer, is dismissed when
// every challenger was rejected (a holder keeps its association), and
// closes undecided when withdrawals leave one claim, which goes back to
// review.
func (s *Service) caseMachine() *Machine[*caseChange] {
	return &Machine[*caseChange]{
		Noun: "arbitration case", Field: "caseId", Initial: CaseOpen,
		States: []State{CaseOpen, CaseResolved, CaseClosed},
		Enter: map[State]func(*caseChange, Fired) error{
			CaseResolved: enterCaseEnded,
			CaseClosed:   enterCaseEnded,
		},
		Write: s.writeCase,
		Transitions: []Transition[*caseChange]{
			{Event: Resolve, From: []State{CaseOpen}, To: CaseResolved, By: []Role{RoleReviewer},
				Verb: "resolve", Done: "resolved", Effect: s.settleCase, Refusal: refuseDecidedCase},
			{Event: Dismiss, From: []State{CaseOpen}, To: CaseResolved, By: []Role{RoleSystem},
				Verb: "dismiss", Done: "dismissed", Refusal: refuseDecidedCase},
			{Event: Close, From: []State{CaseOpen}, To: CaseClosed, By: []Role{RoleSystem},
				Verb: "close", Done: "closed", Effect: s.afterCaseClosed, Refusal: refuseDecidedCase},
		},
	}
}

func refuseDecidedCase(*caseChange, State) error {
	return apperr.New(apperr.InvalidTransition, "caseId", "This arbitration case is already resolved.")
}

func enterCaseEnded(cc *caseChange, f Fired) error {
	cs := cc.cs
	cs.Status, cs.WinningClaimID, cs.Resolution, cs.ResolvedAt = models.ArbitrationStatus(f.To), cc.winner, cc.reason, &cc.now
	cs.ResolvedBy = "system"
	if cc.id != nil {
		cs.ResolvedBy = cc.id.UserID
	}
	return nil
}

func (s *Service) writeCase(cc *caseChange, _ Fired) error {
	cs := cc.cs
	err := cc.tx.Model(cs).Updates(map[string]any{
		"status": cs.Status, "winning_claim_id": cs.WinningClaimID, "resolution": cs.Resolution,
		"resolved_by": cs.ResolvedBy, "resolved_at": cs.ResolvedAt,
	}).Error
	if err != nil {
		return fmt.Errorf("write case: %w", err)
	}
	return nil
}

// lockCase reads and locks a case in the change; the caller holds the key.
func lockCase(ch *change, caseID uuid.UUID) (*models.ArbitrationCase, error) {
	var cs models.ArbitrationCase
	if err := storage.ForUpdate(ch.tx.DB).Where("id = ?", caseID).Take(&cs).Error; err != nil {
		return nil, fmt.Errorf("lock case: %w", err)
	}
	return &cs, nil
}

func (s *Service) fireCase(ch *change, cs *models.ArbitrationCase, event Event, by Role, winner *uuid.UUID, reason string) (*caseChange, error) {
	cc := &caseChange{change: ch, cs: cs, winner: winner, reason: reason}
	_, err := s.cases.Fire(ch.ctx(), cc, State(cs.Status), event, by)
	return cc, err
}

// ResolveArbitration decides a case for one claim: a claim in the case is
// approved, or the holder's association stands. Every other claim in the
// case is rejected and a losing holder's association ends, all in one
// transaction.
func (s *Service) ResolveArbitration(ctx context.Context, caseID, winnerID uuid.UUID, reason string) (*models.ArbitrationCase, error) {
	if err := authorize(ctx, RoleReviewer); err != nil {
		return nil, err
	}
	reason, err := textrule.Reason.Clean(reason, "reason")
	if err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "The reviewer resolved the arbitration case."
	}
	id, _ := caller(ctx, RoleReviewer)
	err = s.run(ctx, id, func(ch *change) error {
		cs, err := s.lockCaseWithKey(ch, caseID)
		if err != nil {
			return err
		}
		winner, err := claims.Load(ch.tx.DB, ch.id, winnerID, true)
		if err != nil {
			return err
		}
		inCase := winner.ArbitrationCaseID != nil && *winner.ArbitrationCaseID == cs.ID
		switch holder, err := isHolder(ch.tx.DB, cs, winner); {
		case err != nil:
			return err
		case inCase && winner.Status == models.Arbitration && cs.Status == models.ArbitrationOpen:
			return s.fireOn(&claimChange{change: ch, claim: winner, reason: reason}, Approve, RoleReviewer)
		case holder:
			_, err := s.fireCase(ch, cs, Resolve, RoleReviewer, &winner.ID, reason)
			return err
		case cs.Status != models.ArbitrationOpen:
			return refuseDecidedCase(nil, "")
		case inCase && winner.Status == models.ActionRequired:
			return apperr.New(apperr.InvalidTransition, "winningClaimId",
				"That claim waits for its partner's answer; decide the case once it is answered or has lapsed.")
		}
		return apperr.Invalidf("winningClaimId", "That claim is not part of this arbitration case; choose one of the case's claims.")
	})
	if err != nil {
		return nil, err
	}
	return s.Case(ctx, caseID)
}

// lockCaseWithKey takes the lock of the case's competition key, then reads
// the case under it, so that a resolution that committed meanwhile is seen.
func (s *Service) lockCaseWithKey(ch *change, caseID uuid.UUID) (*models.ArbitrationCase, error) {
	var cs models.ArbitrationCase
	if err := ch.tx.Where("id = ?", caseID).Take(&cs).Error; err != nil {
		if storage.IsNotFound(err) {
			return nil, apperr.NotFoundf("caseId", "No such arbitration case.")
		}
		return nil, fmt.Errorf("load case: %w", err)
	}
	if err := lockKey(ch.tx, cs.CustomerTenantID, cs.ProductID, cs.Activity); err != nil {
		return nil, err
	}
	return lockCase(ch, caseID)
}

func lockKey(tx *storage.Tx, tenant, product uuid.UUID, activity models.Activity) error {
	return storage.LockKey(tx.DB, claims.CompetitionKey(tenant, product, activity)...)
}

func isHolder(db *gorm.DB, cs *models.ArbitrationCase, c *models.Claim) (bool, error) {
	if cs.HolderAssociationID == nil {
		return false, nil
	}
	var a models.Association
	if err := db.Where("id = ?", *cs.HolderAssociationID).Take(&a).Error; err != nil {
		return false, fmt.Errorf("load holder association: %w", err)
	}
	return a.ClaimID == c.ID && a.Active(), nil
}

// decideCase resolves the case for winner, a claim of it being approved.
func (s *Service) decideCase(cc *claimChange, caseID uuid.UUID, winner *models.Claim) error {
	cs, err := lockCase(cc.change, caseID)
	if err != nil {
		return err
	}
	_, err = s.fireCase(cc.change, cs, Resolve, RoleReviewer, &winner.ID, cc.reason)
	return err
}

// settleCase is a resolution's effect: the case's other claims are
// rejected, and a holder association of another claim ends.
func (s *Service) settleCase(cc *caseChange) error {
	losers, err := caseMembers(cc.change, cc.cs.ID, cc.winner)
	if err != nil {
		return err
	}
	for i := range losers {
		l := &claimChange{change: cc.change, claim: &losers[i], reason: "Arbitration decided for another claim: " + cc.reason}
		if err := s.fireOn(l, Reject, RoleReviewer); err != nil {
			return err
		}
		if err := s.systemComment(cc.change, l.claim,
			"The arbitration case was decided for another partner's claim, so this claim was rejected. Reason: "+cc.reason); err != nil {
			return err
		}
	}
	if cc.cs.HolderAssociationID == nil {
		return nil
	}
	return s.endAssociation(cc.change, *cc.cs.HolderAssociationID, *cc.winner, LoseArbitration,
		"The association ended: arbitration decided for another partner's claim. "+cc.reason)
}

// caseMembers locks the claims still in the case (in arbitration, or
// waiting for an answer from it), but the one excepted.
func caseMembers(ch *change, caseID uuid.UUID, except *uuid.UUID) ([]models.Claim, error) {
	q := storage.ForUpdate(ch.tx.DB).Where("arbitration_case_id = ? AND (status = ? OR (status = ? AND resume_status = ?))",
		caseID, models.Arbitration, models.ActionRequired, models.Arbitration)
	if except != nil {
		q = q.Where("id <> ?", *except)
	}
	var out []models.Claim
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("lock case claims: %w", err)
	}
	return out, nil
}

// leaveCase is a rejected claim leaving its case: a case none of whose
// claims is still open is dismissed, and the holder, if any, keeps its
// association.
func (s *Service) leaveCase(cc *claimChange) error { return s.departCase(cc, false) }

// leaveCaseEarly is a claim leaving its case without a reviewer's decision
// (withdrawn, declined by the customer, lapsed): as leaveCase, and a case
// left with a single claim and no holder closes, its claim going back to
// review, since nothing competes with it any more.
func (s *Service) leaveCaseEarly(cc *claimChange) error { return s.departCase(cc, true) }

func (s *Service) departCase(cc *claimChange, closeSingle bool) error {
	c := cc.claim
	if c.ArbitrationCaseID == nil {
		return nil
	}
	cs, err := lockCase(cc.change, *c.ArbitrationCaseID)
	if err != nil || cs.Status != models.ArbitrationOpen {
		return err
	}
	members, err := caseMembers(cc.change, cs.ID, &c.ID)
	if err != nil {
		return err
	}
	holder, err := activeHolder(cc.change, cs)
	if err != nil {
		return err
	}
	switch {
	case len(members) == 0:
		var winner *uuid.UUID
		if holder != nil {
			winner = &holder.ClaimID
		}
		_, err = s.fireCase(cc.change, cs, Dismiss, RoleSystem, winner, "Every challenging claim was rejected or withdrawn.")
	case closeSingle && len(members) == 1 && holder == nil:
		err = s.closeCase(cc.change, cs, &members[0])
	}
	return err
}

func (s *Service) closeCase(ch *change, cs *models.ArbitrationCase, remaining *models.Claim) error {
	cc := &caseChange{change: ch, cs: cs, remaining: remaining,
		reason: "The other claims were withdrawn or declined; nothing competes with the remaining claim."}
	_, err := s.cases.Fire(ch.ctx(), cc, State(cs.Status), Close, RoleSystem)
	return err
}

// afterCaseClosed takes the remaining claim back out of arbitration.
func (s *Service) afterCaseClosed(cc *caseChange) error {
	return s.fireOn(&claimChange{change: cc.change, claim: cc.remaining, reason: cc.reason}, Deescalate, RoleSystem)
}

func activeHolder(ch *change, cs *models.ArbitrationCase) (*models.Association, error) {
	if cs.HolderAssociationID == nil {
		return nil, nil
	}
	var a models.Association
	if err := ch.tx.Where("id = ?", *cs.HolderAssociationID).Take(&a).Error; err != nil {
		return nil, fmt.Errorf("load holder association: %w", err)
	}
	if !a.Active() {
		return nil, nil
	}
	return &a, nil
}
