package workflow

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/catalog"
	"cpor/claims"
	"cpor/events"
	"cpor/models"
	"cpor/sla"
	"cpor/storage"
	"cpor/textrule"
)

// Service fires state-machine events on claims.
type Service struct {
	db       *gorm.DB
	claims   *claims.Service
	log      *events.Log
	calendar *sla.Calendar
}

// NewService returns the transition service.
func NewService(db *gorm.DB, claimsSvc *claims.Service, log *events.Log, calendar *sla.Calendar) *Service {
	return &Service{db: db, claims: claimsSvc, log: log, calendar: calendar}
}

// Request names the claim an event is fired on.
type Request struct {
	ClaimID uuid.UUID
	// ExpectedVersion, when set, is the version the client read; a claim
	// that has moved on is STALE_CLAIM and is not changed.
	ExpectedVersion *int
	// Reason explains a rejection or an escalation, or is the text of an
	// information request.
	Reason string
}

// change is one transition in progress: the transaction, the caller, the
// locked claim and the events to append when it commits.
type change struct {
	tx     *storage.Tx
	id     *auth.Identity
	claim  *models.Claim
	events []*models.ClaimEvent
	// documents is the number of the claim's documents, counted when the
	// transition asked for it, and newestProof their latest execution day.
	documents   int64
	newestProof *models.Date
}

func (ch *change) ctx() context.Context { return ch.tx.Statement.Context }

// fire runs one transition in one database transaction (see transition):
// before and after do the event's own work around the state change.
func (s *Service) fire(ctx context.Context, req Request, event Event, by Role,
	before, after func(ch *change) error) (*models.Claim, error) {
	// Submitting checks that proof is attached: the claim's documents are
	// counted as it is locked.
	what := claims.Change{CountDocuments: event == Submit}
	return s.transition(ctx, req, by, what, func(ch *change) error {
		if err := s.move(ch, ch.claim, event, by, ch.id, req.Reason, before); err != nil {
			return err
		}
		if after == nil {
			return nil
		}
		return after(ch)
	})
}

// transition runs step in one database transaction for a caller in the
// role: it takes the claim's competition-key lock, locks the claim's row
// (reading what else the step needs, see claims.Change), checks the version,
// runs step and appends the events step queued.
func (s *Service) transition(ctx context.Context, req Request, by Role, what claims.Change,
	step func(ch *change) error) (*models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireRole(id, by); err != nil {
		return nil, err
	}
	var out *models.Claim
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		locked, err := lockClaim(tx, id, req.ClaimID, what)
		if err != nil {
			return err
		}
		c := &locked.Claim
		if req.ExpectedVersion != nil && *req.ExpectedVersion != c.Version {
			return claims.StaleClaim(c, *req.ExpectedVersion)
		}
		ch := &change{tx: tx, id: id, claim: c, documents: locked.Documents, newestProof: locked.NewestProof}
		if err := step(ch); err != nil {
			return err
		}
		out = c
		return s.log.Append(tx, ch.events...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockClaim takes the lock of the claim's competition key (so that
// decisions about one customer, product and activity run one at a time, in
// the same lock order everywhere: key, then rows), then locks the claim's
// row, in one statement that reads the claim once.
func lockClaim(tx *storage.Tx, id *auth.Identity, claimID uuid.UUID, what claims.Change) (*claims.Changing, error) {
	what.CompetitionLock = true
	return claims.LoadForChange(tx.DB, id, claimID, what)
}

func lockKey(tx *storage.Tx, tenant, product uuid.UUID, activity models.Activity) error {
	return storage.LockKey(tx.DB, claims.CompetitionKey(tenant, product, activity)...)
}

// move fires event on c (locked in ch's transaction): checks the state
// machine, runs before, then writes the new state with a version bump and
// queues the event row. by is who fires it; actor nil means the system.
func (s *Service) move(ch *change, c *models.Claim, event Event, by Role, actor *auth.Identity, reason string,
	before func(ch *change) error) error {
	from := c.Status
	to, err := Next(ch.ctx(), from, event, by)
	if err != nil {
		return err
	}
	if before != nil {
		if err := before(ch); err != nil {
			return err
		}
	}
	now := storage.Now()
	c.Status, c.Version, c.UpdatedAt = to, c.Version+1, now
	if to == models.Approved || to == models.Rejected {
		c.DecidedAt, c.DecisionReason = &now, reason
	}
	res := ch.tx.Model(&models.Claim{}).Where("id = ? AND version = ?", c.ID, c.Version-1).Updates(map[string]any{
		"status": c.Status, "version": c.Version, "updated_at": now,
		"submitted_at": c.SubmittedAt, "review_due_at": c.ReviewDueAt,
		"decided_at": c.DecidedAt, "decision_reason": c.DecisionReason,
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
	ev := claims.SystemEvent(c, models.EventStatusChanged)
	if actor != nil {
		ev = claims.EventFor(c, actor, models.EventStatusChanged)
	}
	ev.Event, ev.FromStatus, ev.ToStatus, ev.Reason = string(event), &from, &to, reason
	ch.events = append(ch.events, ev)
	return nil
}

func alreadyClaimed() error {
	return apperr.New(apperr.SubscriptionAlreadyClaimed, "subscriptionId",
		"Your organisation already has an open or approved claim for this subscription and activity; follow that claim instead.")
}

func requireRole(id *auth.Identity, by Role) error {
	if by == RolePartner {
		return id.RequirePartnerAdmin()
	}
	return id.RequireReviewer()
}

// AllowedFor lists the events the identity may fire from the state, in
// every workflow role it holds: what the apps offer as buttons.
func AllowedFor(id *auth.Identity, current models.ClaimStatus) []Event {
	var out []Event
	for _, by := range []Role{RolePartner, RoleReviewer} {
		if requireRole(id, by) == nil {
			out = append(out, Allowed(current, by)...)
		}
	}
	return out
}

// authorize checks that the caller is signed in and may fire events in the
// role, before an event's own input is validated: an anonymous caller or one
// in the wrong role learns nothing from input errors.
func authorize(ctx context.Context, by Role) error {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return err
	}
	return requireRole(id, by)
}

// Submit sends a draft for review after every check of docs/product.md §4 and
// sets the review deadline. The customer is told of the request.
func (s *Service) Submit(ctx context.Context, req Request) (*models.Claim, error) {
	var tenant *models.CustomerTenant
	return s.fire(ctx, req, Submit, RolePartner, func(ch *change) error {
		c := ch.claim
		problems := claims.Incomplete(c)
		found, err := catalog.Inspect(ch.ctx(), ch.tx.DB, claims.Facts(c))
		if err != nil {
			return err
		}
		problems = append(problems, found.Problems...)
		if ch.documents == 0 {
			problems = append(problems, apperr.New(apperr.ProofOfExecutionRequired, "proofOfExecution",
				"Attach at least one proof of execution document (PDF, Office file, image or e-mail) before you submit."))
		}
		if tooOld := s.claims.CheckProofRecency(ch.newestProof, storage.Now()); tooOld != nil {
			problems = append(problems, tooOld)
		}
		if err := problems.Err(); err != nil {
			return err
		}
		tenant = found.Tenant // there is one: an unknown tenant is a problem
		now := storage.Now()
		due := s.calendar.ReviewDue(now)
		c.SubmittedAt, c.ReviewDueAt = &now, &due
		return nil
	}, func(ch *change) error {
		return s.notifyCustomer(ch, tenant)
	})
}

// notifyCustomer records that the customer was told of the association
// request, which the customer may decline at any time once approved. The
// tenant is the one the submit's checks read.
func (s *Service) notifyCustomer(ch *change, tenant *models.CustomerTenant) error {
	c := ch.claim
	ev := claims.SystemEvent(c, models.EventCustomerNotified)
	ev.Reason = "The customer " + tenant.DisplayName + " was told of this association request."
	ch.events = append(ch.events, ev)
	return s.systemComment(ch, c, fmt.Sprintf(
		"We told %s of your association request. The review is due by %s.",
		tenant.DisplayName, c.ReviewDueAt.Format("Monday 2 January 2006")))
}

// systemComment posts a system comment on c within the change, queuing its
// event with the change's others.
func (s *Service) systemComment(ch *change, c *models.Claim, body string) error {
	return s.comment(ch, c, nil, models.CommentSystem, body)
}

func (s *Service) comment(ch *change, c *models.Claim, author *auth.Identity, kind models.CommentKind, body string) error {
	// PostComment appends its own event; the change's events follow it in
	// the same transaction, so the order in the log is the order of work.
	_, err := s.claims.PostComment(ch.tx, c, author, kind, body)
	return err
}

// StartReview takes a submitted claim into review. When another
// organisation holds, or has open, a claim on the same customer, product and
// activity, the claim goes on to arbitration at once.
func (s *Service) StartReview(ctx context.Context, req Request) (*models.Claim, error) {
	return s.fire(ctx, req, StartReview, RoleReviewer, nil, func(ch *change) error {
		comp, err := findCompetition(ch.tx.DB, ch.claim)
		if err != nil {
			return err
		}
		if comp.none() {
			return nil
		}
		return s.escalate(ch, comp, nil, "Another partner organisation holds or claims this association.")
	})
}

// RequestInformation asks the partner for more information in the comment
// thread. The claim stays where it is.
func (s *Service) RequestInformation(ctx context.Context, req Request) (*models.Claim, error) {
	if err := authorize(ctx, RoleReviewer); err != nil {
		return nil, err
	}
	var err error
	if req.Reason, err = textrule.Reason.Require(req.Reason, "message", "Write what information you need."); err != nil {
		return nil, err
	}
	return s.fire(ctx, req, RequestInformation, RoleReviewer, nil, func(ch *change) error {
		if err := s.comment(ch, ch.claim, ch.id, models.CommentInformationRequest, req.Reason); err != nil {
			return err
		}
		return s.systemComment(ch, ch.claim,
			"A reviewer asked for more information. Answer in this thread; the review goes on when you reply.")
	})
}

// Escalate moves a claim under review to arbitration by a reviewer's
// decision, with every competing claim.
func (s *Service) Escalate(ctx context.Context, req Request) (*models.Claim, error) {
	if err := authorize(ctx, RoleReviewer); err != nil {
		return nil, err
	}
	reason, err := textrule.Reason.Clean(req.Reason, "reason")
	if err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "A reviewer referred the claim to arbitration."
	}
	return s.transition(ctx, req, RoleReviewer, claims.Change{}, func(ch *change) error {
		if ch.claim.Status != models.UnderReview {
			_, err := Next(ch.ctx(), ch.claim.Status, Escalate, RoleReviewer)
			return err
		}
		comp, err := findCompetition(ch.tx.DB, ch.claim)
		if err != nil {
			return err
		}
		return s.escalate(ch, comp, ch.id, reason)
	})
}

// Approve approves a claim and records its partner-of-record association. A
// claim in arbitration wins its case: the competing claims are rejected in
// the same transaction. A claim under review that has competition must go
// to arbitration first.
func (s *Service) Approve(ctx context.Context, req Request) (*models.Claim, error) {
	if err := authorize(ctx, RoleReviewer); err != nil {
		return nil, err
	}
	var err error
	if req.Reason, err = textrule.Reason.Clean(req.Reason, "note"); err != nil {
		return nil, err
	}
	var (
		inArbitration bool
		comp          competition
	)
	return s.fire(ctx, req, Approve, RoleReviewer, func(ch *change) error {
		c := ch.claim
		if inArbitration = c.Status == models.Arbitration; inArbitration {
			return nil
		}
		if comp, err = findCompetition(ch.tx.DB, c); err != nil {
			return err
		}
		if !comp.none() {
			return apperr.New(apperr.InvalidTransition, "claimId",
				"Another partner organisation holds or claims this association; escalate the claim to arbitration and resolve the case.")
		}
		return nil
	}, func(ch *change) error {
		if !inArbitration {
			// The competition read under the key's lock knows the key's
			// active association: none, or the organisation's own.
			var own []models.Association
			if comp.own != nil {
				own = append(own, *comp.own)
			}
			return s.associateOver(ch, ch.claim, own)
		}
		if err := s.settleCase(ch, *ch.claim.ArbitrationCaseID, ch.claim, ch.claim.DecisionReason); err != nil {
			return err
		}
		return s.associate(ch, ch.claim)
	})
}

// Reject rejects a claim; a reason is required. A claim rejected in
// arbitration leaves its case, which closes when no open claim remains.
func (s *Service) Reject(ctx context.Context, req Request) (*models.Claim, error) {
	if err := authorize(ctx, RoleReviewer); err != nil {
		return nil, err
	}
	var err error
	if req.Reason, err = textrule.Reason.Require(req.Reason, "reason", "Give the reason for the rejection; the partner sees it."); err != nil {
		return nil, err
	}
	return s.fire(ctx, req, Reject, RoleReviewer, nil, func(ch *change) error {
		if ch.claim.ArbitrationCaseID == nil {
			return nil
		}
		return s.closeCaseIfDecided(ch, *ch.claim.ArbitrationCaseID)
	})
}
