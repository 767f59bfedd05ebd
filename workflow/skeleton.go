package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/claims"
	"cpor/models"
	"cpor/notify"
	"cpor/storage"
)

// change is one transaction of transitions in progress: who causes it
// (nil: the service itself, on a deadline), the moment it happens, and the
// claim events to append when it commits.
type change struct {
	tx     *storage.Tx
	id     *auth.Identity
	now    time.Time
	events []*models.ClaimEvent
	// causes are the events of the change that may notify someone, with
	// their claims as the events left them.
	causes []notify.Cause
}

// noticed queues ev on c (as it is now) for the notifier.
func (ch *change) noticed(ev *models.ClaimEvent, c *models.Claim) {
	ch.causes = append(ch.causes, notify.Cause{Event: ev, Claim: *c})
}

func (ch *change) ctx() context.Context { return ch.tx.Statement.Context }

// run is the one transaction skeleton of every transition of every
// aggregate: open the transaction and make the change in it (within).
func (s *Service) run(ctx context.Context, id *auth.Identity, step func(ch *change) error) error {
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error { return s.within(tx, id, s.clock(), step) })
}

// within makes one change in a transaction already open (the scheduler
// opens its own, holding the due job): step locks what it changes (the
// competition key first, then rows) and fires its events, then the event
// rows queued on the way are appended, last. An error anywhere rolls all of
// it back.
func (s *Service) within(tx *storage.Tx, id *auth.Identity, now time.Time, step func(ch *change) error) error {
	ch := &change{tx: tx, id: id, now: now}
	if err := step(ch); err != nil {
		return err
	}
	if err := s.log.Append(tx, ch.events...); err != nil {
		return err
	}
	if s.notifier == nil || len(ch.causes) == 0 {
		return nil
	}
	return s.notifier.Record(tx, ch.causes)
}

// caller is the identity that fires an event in the role: FORBIDDEN before
// anything is read when it holds no such role. The system role has no
// identity.
func caller(ctx context.Context, by Role) (*auth.Identity, error) {
	if by == RoleSystem {
		return nil, nil
	}
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	return id, requireRole(id, by)
}

func requireRole(id *auth.Identity, by Role) error {
	switch by {
	case RolePartner:
		return id.RequirePartnerAdmin()
	case RoleReviewer:
		return id.RequireReviewer()
	case RoleCustomer:
		if id.IsCustomerAdmin() {
			return nil
		}
		return apperr.Forbiddenf("Only an admin of the customer's tenant can decline an association request.")
	}
	return apperr.Forbiddenf("Only the service itself can do this.")
}

// claimChange is a transition of one claim in progress: the claim, locked
// in the change's transaction, and what its checks and effects need.
type claimChange struct {
	*change
	claim *models.Claim
	// reason is the text the event carries: a rejection's reason, an
	// information request, an answer, the customer's words.
	reason string
	// documents and newestProof are the claim's proof, read as it was
	// locked when the event needs them (submit).
	documents   int64
	newestProof *models.Date
	// proof is new proof of execution an answer brings.
	proof *claims.Proof
	// tenant is the customer tenant submit's checks read.
	tenant *models.CustomerTenant
	// comp is the competition approve read under the key's lock, and
	// arbitrated whether the claim was approved out of arbitration.
	comp       competition
	arbitrated bool
	// compRead says comp was read in this change; joining marks a claim
	// pulled into arbitration by another's escalation.
	compRead, joining bool
	// fired is the transition being made, once it is written.
	fired Fired
}

// on is a transition of another claim in the same change (a competitor
// escalated with this one, a loser of an arbitration case).
func (cc *claimChange) on(c *models.Claim, reason string) *claimChange {
	return &claimChange{change: cc.change, claim: c, reason: reason}
}

// Request names the claim an event is fired on.
type Request struct {
	ClaimID uuid.UUID
	// ExpectedVersion, when set, is the version the client read; a claim
	// that has moved on is STALE_CLAIM and is not changed.
	ExpectedVersion *int
	// Reason explains a rejection, an escalation, a withdrawal or a
	// customer's refusal, or is the text of an information request or of an
	// answer.
	Reason string
	// Proof is new proof of execution sent with an answer, stored in the
	// answer's transaction.
	Proof *claims.Proof
}

// fireClaim runs one event on one claim through the skeleton: the claim is
// locked with its competition key (decisions about one customer, product
// and activity run one at a time, in the same lock order everywhere: key,
// then rows), its version checked, and the claim machine fired.
func (s *Service) fireClaim(ctx context.Context, req Request, event Event, by Role) (*models.Claim, error) {
	id, err := caller(ctx, by)
	if err != nil {
		return nil, err
	}
	var out *models.Claim
	err = s.run(ctx, id, func(ch *change) error {
		cc, err := s.lockClaim(ch, req.ClaimID, event, req.Proof != nil)
		if err != nil {
			return err
		}
		if req.ExpectedVersion != nil && *req.ExpectedVersion != cc.claim.Version {
			return claims.StaleClaim(cc.claim, *req.ExpectedVersion)
		}
		cc.reason, cc.proof = req.Reason, req.Proof
		if _, err := s.claims.Fire(ch.ctx(), cc, StateOf(cc.claim), event, by); err != nil {
			return err
		}
		out = cc.claim
		return nil
	})
	return out, err
}

// lockClaim reads and locks the claim with its competition key in one
// statement, counting its proof when the event checks it or adds to it.
func (s *Service) lockClaim(ch *change, claimID uuid.UUID, event Event, addsProof bool) (*claimChange, error) {
	what := claims.Change{CompetitionLock: true, CountDocuments: event == Submit || addsProof}
	var (
		locked *claims.Changing
		err    error
	)
	if ch.id == nil {
		locked, err = claims.LoadForSystem(ch.tx.DB, claimID, what)
	} else {
		locked, err = claims.LoadForChange(ch.tx.DB, ch.id, claimID, what)
	}
	if err != nil {
		return nil, err
	}
	return &claimChange{change: ch, claim: &locked.Claim, documents: locked.Documents, newestProof: locked.NewestProof}, nil
}

// fireOn fires an event on another claim within the change; the caller
// holds the claim's row lock.
func (s *Service) fireOn(cc *claimChange, event Event, by Role) error {
	_, err := s.claims.Fire(cc.ctx(), cc, StateOf(cc.claim), event, by)
	return err
}

// writeClaim is what every claim transition writes (the machine's generic
// enter_state callback): the new status with a version bump, checked
// against the version read so that a concurrent writer is STALE_CLAIM
// rather than lost, and the immutable event row.
func (s *Service) writeClaim(cc *claimChange, f Fired) error {
	cc.fired = f
	c := cc.claim
	from := c.Status
	c.Status, c.Version, c.UpdatedAt = StatusOf(f.To), c.Version+1, cc.now
	res := cc.tx.Model(&models.Claim{}).Where("id = ? AND version = ?", c.ID, c.Version-1).Updates(map[string]any{
		"status": c.Status, "version": c.Version, "updated_at": c.UpdatedAt,
		"submitted_at": c.SubmittedAt, "review_due_at": c.ReviewDueAt,
		"response_due_at": c.ResponseDueAt, "review_time_left": c.ReviewTimeLeft, "resume_status": c.ResumeStatus,
		"customer_consent": c.CustomerConsent,
		"decided_at":       c.DecidedAt, "decision_reason": c.DecisionReason, "decision_code": c.DecisionCode,
		"arbitration_case_id": c.ArbitrationCaseID,
	})
	if res.Error != nil {
		if storage.IsUniqueViolation(res.Error, "") {
			return alreadyClaimed()
		}
		return fmt.Errorf("write claim state: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return claims.StaleClaim(c, c.Version-1)
	}
	ev := cc.eventOn(c, models.EventStatusChanged)
	if f.By == RoleSystem {
		ev = claims.SystemEvent(c, models.EventStatusChanged)
	}
	to := c.Status // not &c.Status: a later transition in the change moves it
	ev.Event, ev.FromStatus, ev.ToStatus, ev.Reason = string(f.Event), &from, &to, cc.reason
	cc.events = append(cc.events, ev)
	cc.noticed(ev, c)
	return nil
}

// eventOn starts an event row on c by the change's actor.
func (ch *change) eventOn(c *models.Claim, typ models.EventType) *models.ClaimEvent {
	if ch.id == nil {
		return claims.SystemEvent(c, typ)
	}
	return claims.EventFor(c, ch.id, typ)
}

func alreadyClaimed() error {
	return apperr.New(apperr.SubscriptionAlreadyClaimed, "subscriptionId",
		"Your organisation already has an open or approved claim for this subscription and activity; follow that claim instead.")
}

// systemComment posts a notice on c within the change.
func (s *Service) systemComment(ch *change, c *models.Claim, body string) error {
	return s.comment(ch, c, nil, models.CommentSystem, body)
}

func (s *Service) comment(ch *change, c *models.Claim, author *auth.Identity, kind models.CommentKind, body string) error {
	// PostComment appends its own event; the change's events follow it in
	// the same transaction, so the order in the log is the order of work.
	_, err := s.claimsSvc.PostComment(ch.tx, c, author, kind, body)
	return err
}
