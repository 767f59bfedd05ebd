// Package workflow moves claims through their states (docs/product.md §5.1): the
// state machine on looplab/fsm, who may fire each event, and the transition
// service that commits each transition in one database transaction with its
// event rows, comments, associations and arbitration cases.
package workflow

import (
	"context"
	"errors"
	"slices"

	"github.com/looplab/fsm"

	"cpor/apperr"
	"cpor/models"
)

// Event is a state-machine event.
type Event string

const (
	Submit             Event = "submit"
	StartReview        Event = "startReview"
	RequestInformation Event = "requestInformation"
	Escalate           Event = "escalate"
	Approve            Event = "approve"
	Reject             Event = "reject"
)

// Role is who fires an event.
type Role string

const (
	RolePartner  Role = "partner"
	RoleReviewer Role = "reviewer"
	RoleSystem   Role = "system"
)

// rule is one row of the transition table of docs/product.md §5.1.
type rule struct {
	event Event
	from  []models.ClaimStatus
	to    models.ClaimStatus
	by    []Role
}

var rules = []rule{
	{Submit, []models.ClaimStatus{models.Draft}, models.Submitted, []Role{RolePartner}},
	{StartReview, []models.ClaimStatus{models.Submitted}, models.UnderReview, []Role{RoleReviewer}},
	{RequestInformation, []models.ClaimStatus{models.UnderReview, models.Arbitration}, "", []Role{RoleReviewer}},
	{Escalate, []models.ClaimStatus{models.UnderReview}, models.Arbitration, []Role{RoleSystem, RoleReviewer}},
	{Approve, []models.ClaimStatus{models.UnderReview, models.Arbitration}, models.Approved, []Role{RoleReviewer}},
	{Reject, []models.ClaimStatus{models.Submitted, models.UnderReview, models.Arbitration}, models.Rejected, []Role{RoleReviewer}},
}

// fsmEvents turns the table into looplab/fsm event descriptions. An event
// whose destination is empty keeps the state (one description per source).
var fsmEvents = func() fsm.Events {
	var out fsm.Events
	for _, r := range rules {
		if r.to != "" {
			out = append(out, fsm.EventDesc{Name: string(r.event), Src: statuses(r.from), Dst: string(r.to)})
			continue
		}
		for _, from := range r.from {
			out = append(out, fsm.EventDesc{Name: string(r.event), Src: []string{string(from)}, Dst: string(from)})
		}
	}
	return out
}()

func statuses(ss []models.ClaimStatus) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// Next returns the state that event leads to from current when fired by
// role: FORBIDDEN if the role may not fire it, INVALID_TRANSITION if the
// event does not apply in the current state.
func Next(ctx context.Context, current models.ClaimStatus, event Event, by Role) (models.ClaimStatus, error) {
	i := slices.IndexFunc(rules, func(r rule) bool { return r.event == event })
	if i < 0 {
		return "", apperr.Invalidf("event", "Unknown event %q.", event)
	}
	if !slices.Contains(rules[i].by, by) {
		return "", apperr.Forbiddenf("You cannot %s a claim.", describe(event))
	}
	m := fsm.NewFSM(string(current), fsmEvents, nil)
	err := m.Event(ctx, string(event))
	var same fsm.NoTransitionError
	switch {
	case err == nil, errors.As(err, &same):
		return models.ClaimStatus(m.Current()), nil
	case errors.As(err, new(fsm.InvalidEventError)):
		return "", apperr.New(apperr.InvalidTransition, "claimId",
			"A %s claim cannot be %s; it can be %s when it is %s.", current, pastTense(event), pastTense(event), joinStatuses(rules[i].from))
	default:
		return "", err
	}
}

// Allowed lists the events the role may fire from the state, for clients
// that show only the buttons that work.
func Allowed(current models.ClaimStatus, by Role) []Event {
	m := fsm.NewFSM(string(current), fsmEvents, nil)
	var out []Event
	for _, r := range rules {
		if slices.Contains(r.by, by) && m.Can(string(r.event)) {
			out = append(out, r.event)
		}
	}
	return out
}

func describe(e Event) string {
	switch e {
	case StartReview:
		return "start the review of"
	case RequestInformation:
		return "request information on"
	}
	return string(e)
}

func pastTense(e Event) string {
	switch e {
	case Submit:
		return "submitted"
	case StartReview:
		return "taken into review"
	case RequestInformation:
		return "asked for information"
	case Escalate:
		return "escalated"
	case Approve:
		return "approved"
	}
	return "rejected"
}

func joinStatuses(ss []models.ClaimStatus) string {
	out := ""
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(s)
	}
	return out
}
