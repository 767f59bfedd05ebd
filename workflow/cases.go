package workflow

import (
	"context"

	"github.com/google/uuid"

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

func (s *Service) writeCase(cc *caseChange, _ Fired) error { return s.caseRows.write(cc.tx.DB, cc.cs) }

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
	id, err := caller(ctx, RoleReviewer)
	if err != nil {
		return nil, err
	}
	if reason, err = textrule.Reason.Clean(reason, "reason"); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "The reviewer resolved the arbitration case."
	}
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
		holder, err := s.caseRows.holder(ch.tx.DB, cs)
		switch {
		case err != nil:
			return err
		case inCase && winner.Status == models.Arbitration && cs.Status == models.ArbitrationOpen:
			return s.fireOn(&claimChange{change: ch, claim: winner, reason: reason}, Approve, RoleReviewer)
		case holder != nil && holder.ClaimID == winner.ID:
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
	cs, err := s.caseRows.find(ch.tx.DB, caseID)
	if isNotFound(err) {
		return nil, apperr.NotFoundf("caseId", "No such arbitration case.")
	}
	if err != nil {
		return nil, err
	}
	if err := lockKey(ch.tx, cs.CustomerTenantID, cs.ProductID, cs.Activity); err != nil {
		return nil, err
	}
	return s.caseRows.lock(ch.tx.DB, caseID)
}

func lockKey(tx *storage.Tx, tenant, product uuid.UUID, activity models.Activity) error {
	return storage.LockKey(tx.DB, claims.CompetitionKey(tenant, product, activity)...)
}

// decideCase resolves the case for winner, a claim of it being approved.
func (s *Service) decideCase(cc *claimChange, caseID uuid.UUID, winner *models.Claim) error {
	cs, err := s.caseRows.lock(cc.tx.DB, caseID)
	if err != nil {
		return err
	}
	_, err = s.fireCase(cc.change, cs, Resolve, RoleReviewer, &winner.ID, cc.reason)
	return err
}

// settleCase is a resolution's effect: the case's other claims are
// rejected, and a holder association of another claim ends.
func (s *Service) settleCase(cc *caseChange) error {
	losers, err := s.caseRows.members(cc.tx.DB, cc.cs.ID, cc.winner)
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
	cs, err := s.caseRows.lock(cc.tx.DB, *c.ArbitrationCaseID)
	if err != nil || cs.Status != models.ArbitrationOpen {
		return err
	}
	members, err := s.caseRows.members(cc.tx.DB, cs.ID, &c.ID)
	if err != nil {
		return err
	}
	holder, err := s.caseRows.holder(cc.tx.DB, cs)
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
