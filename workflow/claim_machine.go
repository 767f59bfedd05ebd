package workflow

import (
	"cpor/models"
)

// The claim's events.
const (
	Submit             Event = "submit"
	StartReview        Event = "startReview"
	RequestInformation Event = "requestInformation"
	Respond            Event = "respond"
	Escalate           Event = "escalate"
	Deescalate         Event = "deescalate"
	Approve            Event = "approve"
	Reject             Event = "reject"
	Lapse              Event = "lapse"
	Withdraw           Event = "withdraw"
	Expire             Event = "expire"
	CustomerDecline    Event = "customerDecline"
)

// The claim machine's states are the stored statuses, except that a claim
// waiting for the partner's answer (ACTION_REQUIRED) is in one of two
// states, by where the answer takes it back to: review or arbitration.
const (
	Draft                State = "DRAFT"
	Submitted            State = "SUBMITTED"
	UnderReview          State = "UNDER_REVIEW"
	WaitingInReview      State = "ACTION_REQUIRED_IN_REVIEW"
	Arbitration          State = "ARBITRATION"
	WaitingInArbitration State = "ACTION_REQUIRED_IN_ARBITRATION"
	Approved             State = "APPROVED"
	Rejected             State = "REJECTED"
	Withdrawn            State = "WITHDRAWN"
	Expired              State = "EXPIRED"
)

var (
	waiting   = []State{WaitingInReview, WaitingInArbitration}
	reviewing = []State{Submitted, UnderReview, Arbitration}
	inReview  = []State{UnderReview, Arbitration}
	// openStates wait for a decision.
	openStates = []State{Submitted, UnderReview, WaitingInReview, Arbitration, WaitingInArbitration}
)

// StateOf is the claim machine's state of a claim.
func StateOf(c *models.Claim) State {
	if c.Status != models.ActionRequired {
		return State(c.Status)
	}
	if c.ResumeStatus != nil && *c.ResumeStatus == models.Arbitration {
		return WaitingInArbitration
	}
	return WaitingInReview
}

// StatusOf is the stored status of a claim machine state.
func StatusOf(s State) models.ClaimStatus {
	if s == WaitingInReview || s == WaitingInArbitration {
		return models.ActionRequired
	}
	return models.ClaimStatus(s)
}

// ClaimMachine is the claim's machine, as the apps, the diagrams and the
// tests read it.
type ClaimMachine = Machine[*claimChange]

// claimMachine declares the claim's workflow: every state, every event with
// its sources, destination and roles, the words that explain it, and the
// checks and effects that hang on it. The README's diagram is drawn from it.
func (s *Service) claimMachine() *Machine[*claimChange] {
	return &Machine[*claimChange]{
		Noun: "claim", Field: "claimId", Initial: Draft,
		States: []State{Draft, Submitted, UnderReview, WaitingInReview, Arbitration, WaitingInArbitration,
			Approved, Rejected, Withdrawn, Expired},
		Label: func(st State) string { return string(StatusOf(st)) },
		Enter: map[State]func(*claimChange, Fired) error{
			Submitted:            s.enterSubmitted,
			UnderReview:          s.enterReviewing,
			Arbitration:          s.enterReviewing,
			WaitingInReview:      s.enterWaiting,
			WaitingInArbitration: s.enterWaiting,
			Approved:             s.enterDecided,
			Rejected:             s.enterDecided,
			Withdrawn:            s.enterDecided,
			Expired:              s.enterDecided,
		},
		Write: s.writeClaim,
		Transitions: []Transition[*claimChange]{
			{Event: Submit, From: []State{Draft}, To: Submitted, By: []Role{RolePartner},
				Verb: "submit", Done: "submitted", Check: s.checkSubmit, Effect: s.afterSubmit},
			{Event: StartReview, From: []State{Submitted}, To: UnderReview, By: []Role{RoleReviewer},
				Verb: "start the review of", Done: "taken into review", Effect: s.afterStartReview},
			{Event: RequestInformation, From: []State{UnderReview}, To: WaitingInReview, By: []Role{RoleReviewer},
				Verb: "request information on", Done: "asked for information", Effect: s.afterRequestInformation},
			{Event: RequestInformation, From: []State{Arbitration}, To: WaitingInArbitration, By: []Role{RoleReviewer},
				Verb: "request information on", Done: "asked for information", Effect: s.afterRequestInformation},
			{Event: Respond, From: []State{WaitingInReview}, To: UnderReview, By: []Role{RolePartner},
				Verb: "answer an information request on", Done: "answered", Check: s.checkRespond, Effect: s.afterRespond,
				Refusal: refuseRespond},
			{Event: Respond, From: []State{WaitingInArbitration}, To: Arbitration, By: []Role{RolePartner},
				Verb: "answer an information request on", Done: "answered", Check: s.checkRespond, Effect: s.afterRespond,
				Refusal: refuseRespond},
			{Event: Escalate, From: []State{UnderReview}, To: Arbitration, By: []Role{RoleSystem, RoleReviewer},
				Verb: "escalate", Done: "escalated", Check: s.checkEscalate, Effect: s.afterEscalate},
			{Event: Deescalate, From: []State{Arbitration}, To: UnderReview, By: []Role{RoleSystem},
				Verb: "take out of arbitration", Done: "taken out of arbitration", Effect: s.afterDeescalate},
			{Event: Deescalate, From: []State{WaitingInArbitration}, To: WaitingInReview, By: []Role{RoleSystem},
				Verb: "take out of arbitration", Done: "taken out of arbitration", Effect: s.afterDeescalate},
			{Event: Approve, From: inReview, To: Approved, By: []Role{RoleReviewer},
				Verb: "approve", Done: "approved", Check: s.checkApprove, Effect: s.afterApprove},
			{Event: Reject, From: append(append([]State{}, reviewing...), waiting...), To: Rejected, By: []Role{RoleReviewer},
				Verb: "reject", Done: "rejected", Effect: s.afterReject},
			{Event: Lapse, From: waiting, To: Rejected, By: []Role{RoleSystem},
				Verb: "lapse", Done: "lapsed", Check: s.reasonForLapse, Effect: s.afterLapse},
			{Event: Withdraw, From: append([]State{Draft}, openStates...), To: Withdrawn, By: []Role{RolePartner},
				Verb: "withdraw", Done: "withdrawn", Effect: s.afterWithdraw, Refusal: refuseWithdraw},
			{Event: Expire, From: []State{Draft}, To: Expired, By: []Role{RoleSystem},
				Verb: "expire", Done: "expired", Check: s.reasonForExpiry, Effect: s.afterExpire},
			{Event: CustomerDecline, From: openStates, To: Rejected, By: []Role{RoleCustomer},
				Verb: "decline", Done: "declined", Check: s.checkCustomerDecline, Effect: s.afterCustomerDecline},
		},
	}
}
