package workflow

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/models"
	"cpor/textrule"
)

// The association's events and states.
const (
	Decline         Event = "decline"
	End             Event = "end"
	Supersede       Event = "supersede"
	LoseArbitration Event = "loseArbitration"

	AssociationActive State = "ACTIVE"
	AssociationEnded  State = "ENDED"
)

// endReasons records why each event ends an association.
var endReasons = map[Event]models.AssociationEndReason{
	Decline:         models.EndCustomerDecline,
	End:             models.EndByPartner,
	Supersede:       models.EndSuperseded,
	LoseArbitration: models.EndArbitrationLost,
}

// associationChange is the end of one association in progress; notice is
// what the association's claim's thread is told.
type associationChange struct {
	*change
	a      *models.Association
	notice string
	// words are the reason the partner or the customer gave, kept in the
	// history entry after the end's code.
	words string
}

// associationMachine declares the partner-of-record association: active
// from its claim's approval until the customer declines it, its partner
// ends it, a newer claim of the same partner supersedes it, or it loses an
// arbitration.
func (s *Service) associationMachine() *Machine[*associationChange] {
	ends := func(e Event, by Role, verb, done string) Transition[*associationChange] {
		return Transition[*associationChange]{Event: e, From: []State{AssociationActive}, To: AssociationEnded, By: []Role{by},
			Verb: verb, Done: done, Effect: s.afterAssociationEnded, Refusal: refuseEndedAssociation}
	}
	return &Machine[*associationChange]{
		Noun: "association", Field: "associationId", Initial: AssociationActive,
		States: []State{AssociationActive, AssociationEnded},
		Enter:  map[State]func(*associationChange, Fired) error{AssociationEnded: enterAssociationEnded},
		Write:  s.writeAssociation,
		Transitions: []Transition[*associationChange]{
			ends(Decline, RoleCustomer, "decline", "declined"),
			ends(End, RolePartner, "end", "ended"),
			ends(Supersede, RoleSystem, "supersede", "superseded"),
			ends(LoseArbitration, RoleSystem, "end", "ended by arbitration"),
		},
	}
}

func associationState(a *models.Association) State {
	if a.Active() {
		return AssociationActive
	}
	return AssociationEnded
}

func refuseEndedAssociation(*associationChange, State) error {
	return apperr.New(apperr.AssociationNotActive, "associationId", "This association has already ended.")
}

func enterAssociationEnded(ac *associationChange, f Fired) error {
	why := endReasons[f.Event]
	ac.a.EndedAt, ac.a.EndReason = &ac.now, &why
	return nil
}

// writeAssociation stores the end and records it in the history of the
// association's claim.
func (s *Service) writeAssociation(ac *associationChange, _ Fired) error {
	a := ac.a
	if err := s.associationRows.end(ac.tx.DB, a); err != nil {
		return err
	}
	c, err := s.associationRows.claimOf(ac.tx.DB, a)
	if err != nil {
		return err
	}
	ev := ac.eventOn(c, models.EventAssociationEnded)
	ev.Reason = string(*a.EndReason)
	if ac.words != "" {
		ev.Reason += ": " + ac.words
	}
	ac.events = append(ac.events, ev)
	return nil
}

func (s *Service) afterAssociationEnded(ac *associationChange) error {
	c, err := s.associationRows.claimOf(ac.tx.DB, ac.a)
	if err != nil {
		return err
	}
	return s.systemComment(ac.change, c, ac.notice)
}

// endAssociation ends an active association as part of another transition
// (superseded, lost in arbitration), unless it belongs to the claim keep.
func (s *Service) endAssociation(ch *change, assocID, keep uuid.UUID, event Event, notice string) error {
	a, err := s.associationRows.lock(ch.tx.DB, assocID)
	if err != nil || !a.Active() || a.ClaimID == keep {
		return err
	}
	_, err = s.associations.Fire(ch.ctx(), &associationChange{change: ch, a: a, notice: notice}, AssociationActive, event, RoleSystem)
	return err
}

// associate records the approved claim's partner-of-record association. An
// earlier association of the same organisation on the same customer,
// product and activity (another subscription, say) is superseded by it.
func (s *Service) associate(cc *claimChange) error {
	c := cc.claim
	active, err := s.associationRows.activeOnKey(cc.tx.DB, c)
	if err != nil {
		return err
	}
	for _, a := range active {
		if a.OrganizationID != c.OrganizationID {
			return apperr.New(apperr.InvalidTransition, "claimId",
				"Another partner organisation holds this association; escalate the claim to arbitration and resolve the case.")
		}
	}
	return s.associateOver(cc, active)
}

// associateOver is associate when the key's active associations are known
// (read under the key's lock in this transaction) and all are the claim's
// organisation's: they end, superseded, and the claim's begins.
func (s *Service) associateOver(cc *claimChange, own []models.Association) error {
	c := cc.claim
	for _, a := range own {
		if err := s.endAssociation(cc.change, a.ID, c.ID, Supersede, "Superseded by a newer approved claim of your organisation."); err != nil {
			return err
		}
	}
	a := models.Association{
		ID: uuid.New(), ClaimID: c.ID, OrganizationID: c.OrganizationID, CustomerTenantID: c.CustomerTenantID,
		ProductID: *c.ProductID, SubscriptionID: c.SubscriptionID, Activity: c.Activity, StartedAt: cc.now,
	}
	err := s.associationRows.create(cc.tx.DB, &a)
	if errors.Is(err, errOneActive) {
		return apperr.New(apperr.InvalidTransition, "claimId",
			"Another association became active for this customer, product and activity; reload the claim.")
	}
	return err
}

// DeclineAssociation lets a customer's admin end an association on its
// tenant at any time.
func (s *Service) DeclineAssociation(ctx context.Context, assocID uuid.UUID, reason string) (*models.Association, error) {
	if err := authorize(ctx, RoleCustomer); err != nil {
		return nil, err
	}
	reason, err := textrule.Reason.Clean(reason, "reason")
	if err != nil {
		return nil, err
	}
	notice := "The customer declined this association, so it has ended."
	if reason != "" {
		notice += " The customer said: " + reason
	}
	return s.fireAssociation(ctx, assocID, Decline, RoleCustomer, notice, reason)
}

// EndAssociation lets a partner admin of the owning organisation end its
// own association (disassociate the customer); the reason is required and
// kept in the claim's history.
func (s *Service) EndAssociation(ctx context.Context, assocID uuid.UUID, reason string) (*models.Association, error) {
	if err := authorize(ctx, RolePartner); err != nil {
		return nil, err
	}
	reason, err := textrule.Reason.Require(reason, "reason", "Say why your organisation ends this association; it is kept in the claim's history.")
	if err != nil {
		return nil, err
	}
	return s.fireAssociation(ctx, assocID, End, RolePartner, "Your organisation ended this association: "+reason, reason)
}

// fireAssociation runs an association event through the skeleton: the
// association is found among those the caller may end (NOT_FOUND
// otherwise), its competition key locked, then its row.
func (s *Service) fireAssociation(ctx context.Context, assocID uuid.UUID, event Event, by Role, notice, words string) (*models.Association, error) {
	id, err := caller(ctx, by)
	if err != nil {
		return nil, err
	}
	var out *models.Association
	err = s.run(ctx, id, func(ch *change) error {
		// A customer admin ends those on its tenant, a partner admin its
		// organisation's.
		var tenant, org *uuid.UUID
		if by == RoleCustomer {
			tenant = &id.TenantID
		} else {
			org = &id.OrganizationID
		}
		a, err := s.associationRows.owned(ch.tx.DB, assocID, tenant, org)
		if isNotFound(err) {
			return apperr.NotFoundf("associationId", "No such association of yours.")
		}
		if err != nil {
			return err
		}
		if err := lockKey(ch.tx, a.CustomerTenantID, a.ProductID, a.Activity); err != nil {
			return err
		}
		if out, err = s.associationRows.lock(ch.tx.DB, assocID); err != nil {
			return err
		}
		_, err = s.associations.Fire(ch.ctx(), &associationChange{change: ch, a: out, notice: notice, words: words}, associationState(out), event, by)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
