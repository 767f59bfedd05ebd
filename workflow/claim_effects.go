package workflow

import (
	"fmt"
	"time"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/claims"
	"cpor/models"
	"cpor/scheduler"
)

// The claim machine's enter_<state> callbacks: what being in a state means,
// set on the claim before writeClaim stores it.

func (s *Service) enterSubmitted(cc *claimChange, _ Fired) error {
	c := cc.claim
	due := s.calendar.ReviewDue(cc.now)
	pending := models.ConsentPending
	c.SubmittedAt, c.ReviewDueAt, c.CustomerConsent = &cc.now, &due, &pending
	return nil
}

// enterWaiting stops the review clock, keeping the business time left, and
// sets the partner's response deadline.
func (s *Service) enterWaiting(cc *claimChange, f Fired) error {
	c := cc.claim
	resume := models.UnderReview // where the answer takes the claim back to
	if f.To == WaitingInArbitration {
		resume = models.Arbitration
	}
	if c.Status == models.ActionRequired {
		c.ResumeStatus = &resume // deescalated while waiting: the clock is already stopped
		return nil
	}
	left := int64(0)
	if c.ReviewDueAt != nil {
		left = int64(s.calendar.BusinessTimeBetween(cc.now, *c.ReviewDueAt) / time.Second)
	}
	due := s.calendar.AddBusinessDays(cc.now, s.cfg.ResponseBusinessDays)
	c.ResumeStatus, c.ReviewTimeLeft, c.ResponseDueAt, c.ReviewDueAt = &resume, &left, &due, nil
	return nil
}

// enterReviewing restarts the review clock with the time that was left
// when the claim comes back from waiting for the partner.
func (s *Service) enterReviewing(cc *claimChange, _ Fired) error {
	c := cc.claim
	if c.ReviewTimeLeft == nil {
		return nil
	}
	due := s.calendar.AddBusinessTime(cc.now, time.Duration(*c.ReviewTimeLeft)*time.Second)
	c.ReviewDueAt = &due
	clearWaiting(c)
	return nil
}

func clearWaiting(c *models.Claim) {
	c.ResumeStatus, c.ReviewTimeLeft, c.ResponseDueAt = nil, nil, nil
}

// enterDecided records the end of a claim: when, why and, for the ends no
// reviewer chose, a code that says which.
func (s *Service) enterDecided(cc *claimChange, f Fired) error {
	c := cc.claim
	c.DecidedAt, c.DecisionReason = &cc.now, cc.reason
	clearWaiting(c)
	switch f.Event {
	case Lapse:
		code := models.NoPartnerResponse
		c.DecisionCode = &code
	case CustomerDecline:
		code, declined := models.CustomerDeclined, models.ConsentDeclined
		c.DecisionCode, c.CustomerConsent = &code, &declined
	}
	return nil
}

// checkSubmit runs every check of a complete claim against the catalog,
// and requires recent proof of execution.
func (s *Service) checkSubmit(cc *claimChange) error {
	c := cc.claim
	problems := claims.Incomplete(c)
	found, err := catalog.Inspect(cc.ctx(), cc.tx.DB, claims.Facts(c))
	if err != nil {
		return err
	}
	problems = append(problems, found.Problems...)
	if cc.documents == 0 {
		problems = append(problems, apperr.New(apperr.ProofOfExecutionRequired, "proofOfExecution",
			"Attach at least one proof of execution document (PDF, Office file, image or e-mail) before you submit."))
	}
	if tooOld := s.claimsSvc.CheckProofRecency(cc.newestProof, cc.now); tooOld != nil {
		problems = append(problems, tooOld)
	}
	if err := problems.Err(); err != nil {
		return err
	}
	cc.tenant = found.Tenant // there is one: an unknown tenant is a problem
	return nil
}

// afterSubmit tells the customer of the request (the customer may decline
// it until the decision) and drops the draft's expiry.
func (s *Service) afterSubmit(cc *claimChange) error {
	c := cc.claim
	ev := claims.SystemEvent(c, models.EventCustomerNotified)
	ev.Reason = "The customer " + cc.tenant.DisplayName + " was told of this association request."
	cc.events = append(cc.events, ev)
	if err := s.cancelDeadlines(cc, cc.fired.From); err != nil {
		return err
	}
	return s.systemComment(cc.change, c, fmt.Sprintf(
		"We told %s of your association request; they may decline it until it is decided. The review is due by %s.",
		cc.tenant.DisplayName, c.ReviewDueAt.Format("Monday 2 January 2006")))
}

func (s *Service) afterStartReview(cc *claimChange) error {
	comp, err := s.caseRows.competition(cc.tx.DB, cc.claim)
	if err != nil || comp.none() {
		return err
	}
	cc.reason = "Another partner organisation holds or claims this association."
	return s.escalate(cc, comp, RoleSystem)
}

// afterRequestInformation posts the request and the deadline, and leaves
// the lapse and its warning with the scheduler.
func (s *Service) afterRequestInformation(cc *claimChange) error {
	c := cc.claim
	if err := s.comment(cc.change, c, cc.id, models.CommentInformationRequest, cc.reason); err != nil {
		return err
	}
	due := *c.ResponseDueAt
	if err := s.scheduleResponse(cc, due); err != nil {
		return err
	}
	return s.systemComment(cc.change, c, fmt.Sprintf(
		"A reviewer asked for more information. Answer by %s with respond (you may attach new proof of execution); "+
			"without an answer the claim is rejected then. The review clock stops until you answer.",
		due.Format("Monday 2 January 2006 15:04 MST")))
}

// checkRespond refuses an answer after its deadline, even before the
// scheduler has lapsed the claim: the deadline is the rule, not the
// scheduler's timing.
func (s *Service) checkRespond(cc *claimChange) error {
	if due := cc.claim.ResponseDueAt; due != nil && cc.now.After(*due) {
		return responseOverdue(*due)
	}
	return nil
}

func responseOverdue(due time.Time) error {
	return apperr.New(apperr.ResponseOverdue, "claimId",
		"The answer was due by %s and the request has lapsed; reclaim to start a new claim with your answer.",
		due.Format(time.RFC1123))
}

// refuseRespond explains an answer to a claim that no longer waits: one
// that lapsed is RESPONSE_OVERDUE.
func refuseRespond(cc *claimChange, _ State) error {
	if cc == nil || cc.claim.DecisionCode == nil || *cc.claim.DecisionCode != models.NoPartnerResponse {
		return nil
	}
	return responseOverdue(*cc.claim.DecidedAt)
}

func (s *Service) afterRespond(cc *claimChange) error {
	if err := s.comment(cc.change, cc.claim, cc.id, models.CommentPartner, cc.reason); err != nil {
		return err
	}
	if cc.proof != nil {
		ev, err := s.claimsSvc.StoreProof(cc.tx, cc.claim, cc.documents, cc.proof)
		if err != nil {
			return err
		}
		cc.events = append(cc.events, ev)
	}
	return scheduler.Cancel(cc.tx, JobLapse, cc.claim.ID)
}

func (s *Service) afterDeescalate(cc *claimChange) error {
	return s.systemComment(cc.change, cc.claim,
		"The other claims in arbitration were withdrawn, so the case closed and this claim's review goes on as usual.")
}

// checkApprove reads the competition under the key's lock: a claim under
// review that has competition must go to arbitration first.
func (s *Service) checkApprove(cc *claimChange) error {
	if cc.arbitrated = cc.claim.Status == models.Arbitration; cc.arbitrated {
		return nil
	}
	comp, err := s.caseRows.competition(cc.tx.DB, cc.claim)
	if err != nil {
		return err
	}
	if !comp.none() {
		return apperr.New(apperr.InvalidTransition, "claimId",
			"Another partner organisation holds or claims this association; escalate the claim to arbitration and resolve the case.")
	}
	cc.comp = comp
	return nil
}

func (s *Service) afterApprove(cc *claimChange) error {
	c := cc.claim
	if !cc.arbitrated {
		// The competition read under the key's lock knows the key's active
		// association: none, or the organisation's own.
		var own []models.Association
		if cc.comp.own != nil {
			own = append(own, *cc.comp.own)
		}
		return s.associateOver(cc, own)
	}
	if err := s.decideCase(cc, *c.ArbitrationCaseID, c); err != nil {
		return err
	}
	return s.associate(cc)
}

// afterReject drops the answer's deadline of a claim rejected while it
// waited, and takes the claim out of its arbitration case.
func (s *Service) afterReject(cc *claimChange) error {
	if err := s.cancelDeadlines(cc, cc.fired.From); err != nil {
		return err
	}
	return s.leaveCase(cc)
}

// reasonForLapse words the rejection; whether the deadline has come is
// decided once, by the deadline's job (dueDeadline), which alone fires it.
func (s *Service) reasonForLapse(cc *claimChange) error {
	cc.reason = fmt.Sprintf("No answer to the information request by %s.", cc.claim.ResponseDueAt.Format(time.RFC1123))
	return nil
}

func (s *Service) afterLapse(cc *claimChange) error {
	if err := s.systemComment(cc.change, cc.claim,
		"No answer came by the deadline, so the claim was rejected (no partner response). Reclaim it to start again."); err != nil {
		return err
	}
	return s.leaveCaseEarly(cc)
}

func refuseWithdraw(_ *claimChange, from State) error {
	if StatusOf(from).IsFinal() {
		return apperr.New(apperr.NotWithdrawable, "claimId",
			"This claim is already %s and can no longer be withdrawn; an approved association can be ended with endAssociation.", StatusOf(from))
	}
	return nil
}

func (s *Service) afterWithdraw(cc *claimChange) error {
	if err := s.cancelDeadlines(cc, cc.fired.From); err != nil {
		return err
	}
	return s.leaveCaseEarly(cc)
}

// reasonForExpiry words the end; see reasonForLapse.
func (s *Service) reasonForExpiry(cc *claimChange) error {
	cc.reason = fmt.Sprintf("The draft was not changed for %d days.", int(s.cfg.DraftLifetime.Hours()/24))
	return nil
}

func (s *Service) afterExpire(cc *claimChange) error {
	return s.systemComment(cc.change, cc.claim, cc.reason+" It expired; reclaim it to start a new draft from it.")
}

// checkCustomerDecline words the decision: the customer's own words are
// optional, a rejection's reason is not.
func (s *Service) checkCustomerDecline(cc *claimChange) error {
	notice := "The customer declined this association request, so the claim was rejected."
	if cc.reason != "" {
		notice += " The customer said: " + cc.reason
	}
	cc.reason = notice
	return nil
}

func (s *Service) afterCustomerDecline(cc *claimChange) error {
	if err := s.cancelDeadlines(cc, cc.fired.From); err != nil {
		return err
	}
	if err := s.systemComment(cc.change, cc.claim, cc.reason); err != nil {
		return err
	}
	return s.leaveCaseEarly(cc)
}
