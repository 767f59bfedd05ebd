package workflow

import (
	"context"
	"time"

	"gorm.io/gorm"

	"cpor/auth"
	"cpor/claims"
	"cpor/events"
	"cpor/models"
	"cpor/notify"
	"cpor/sla"
	"cpor/storage"
	"cpor/textrule"
)

// Service fires the events of the three machines.
type Service struct {
	db        *gorm.DB
	claimsSvc *claims.Service
	log       *events.Log
	calendar  *sla.Calendar
	cfg       Config

	claims       *Machine[*claimChange]
	cases        *Machine[*caseChange]
	associations *Machine[*associationChange]

	// The SQL of cases and associations; claims keeps that of claims.
	caseRows        caseStore
	associationRows associationStore

	notifier Notifier
}

// Notifier writes, in a change's transaction, what its events notify.
type Notifier interface {
	Record(tx *storage.Tx, causes []notify.Cause) error
}

// NotifyWith makes every change record its notifications with n, in the
// change's own transaction.
func (s *Service) NotifyWith(n Notifier) { s.notifier = n }

// DefaultDraftLifetime is how long an untouched draft lives unless
// configured otherwise.
const DefaultDraftLifetime = 30 * 24 * time.Hour

// Config holds the workflow's deadlines. The zero value of a field means
// its default.
type Config struct {
	// ResponseBusinessDays is how long a partner has to answer an
	// information request (default 10 business days).
	ResponseBusinessDays int
	// ResponseWarningBusinessDays is how long before that deadline the
	// partner is warned (default 2).
	ResponseWarningBusinessDays int
	// DraftLifetime is how long an untouched draft lives (default 30 days)
	// and DraftWarning how long before its end the partner is warned
	// (default 7 days, or a quarter of a lifetime that short).
	DraftLifetime, DraftWarning time.Duration
	// Clock is the time transitions happen at (default storage.Now);
	// tests move it instead of sleeping.
	Clock func() time.Time
}

func (c Config) withDefaults() Config {
	if c.ResponseBusinessDays == 0 {
		c.ResponseBusinessDays = sla.ResponseBusinessDays
	}
	if c.ResponseWarningBusinessDays == 0 {
		c.ResponseWarningBusinessDays = 2
	}
	if c.DraftLifetime == 0 {
		c.DraftLifetime = DefaultDraftLifetime
	}
	if c.DraftWarning == 0 {
		c.DraftWarning = 7 * 24 * time.Hour
	}
	if c.DraftWarning >= c.DraftLifetime {
		c.DraftWarning = c.DraftLifetime / 4
	}
	if c.Clock == nil {
		c.Clock = storage.Now
	}
	return c
}

// NewService returns the transition service.
func NewService(db *gorm.DB, claimsSvc *claims.Service, log *events.Log, calendar *sla.Calendar, cfg Config) *Service {
	s := &Service{db: db, claimsSvc: claimsSvc, log: log, calendar: calendar, cfg: cfg.withDefaults()}
	s.claims, s.cases, s.associations = s.claimMachine(), s.caseMachine(), s.associationMachine()
	return s
}

func (s *Service) clock() time.Time { return s.cfg.Clock().UTC().Truncate(time.Microsecond) }

// ClaimMachine is the claim's declaration, for what the apps offer and for
// the diagrams.
func (s *Service) ClaimMachine() *ClaimMachine { return s.claims }

// AllowedFor lists the events the identity may fire on the claim now, in
// every workflow role it holds: what the apps offer as buttons.
func (s *Service) AllowedFor(id *auth.Identity, c *models.Claim) []Event {
	var out []Event
	for _, by := range []Role{RolePartner, RoleReviewer, RoleCustomer} {
		if requireRole(id, by) == nil {
			out = append(out, s.claims.Allowed(StateOf(c), by)...)
		}
	}
	return out
}

// authorize checks the caller's role before an event's own input is
// validated: an anonymous caller or one in the wrong role learns nothing
// from input errors.
func authorize(ctx context.Context, by Role) error {
	_, err := caller(ctx, by)
	return err
}

// Submit sends a draft for review after every check (docs/checks.md),
// starts the review clock and tells the customer.
func (s *Service) Submit(ctx context.Context, req Request) (*models.Claim, error) {
	return s.fireClaim(ctx, req, Submit, RolePartner)
}

// StartReview takes a submitted claim into review, and on to arbitration at
// once when another organisation holds, or has open, a claim on the same
// customer, product and activity.
func (s *Service) StartReview(ctx context.Context, req Request) (*models.Claim, error) {
	return s.fireClaim(ctx, req, StartReview, RoleReviewer)
}

// RequestInformation asks the partner for more information: the claim waits
// for the answer until a deadline, and the review clock stops meanwhile.
func (s *Service) RequestInformation(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, RequestInformation, RoleReviewer, "message", "Write what information you need.", true)
}

// Respond answers an information request; the claim goes back to where it
// waited from and the review clock restarts with the time that was left.
func (s *Service) Respond(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, Respond, RolePartner, "message", "Write your answer to the reviewer.", true)
}

// Escalate moves a claim under review to arbitration by a reviewer's
// decision, with every competing claim under review.
func (s *Service) Escalate(ctx context.Context, req Request) (*models.Claim, error) {
	if req.Reason == "" {
		req.Reason = "A reviewer referred the claim to arbitration."
	}
	return s.withText(ctx, req, Escalate, RoleReviewer, "reason", "", false)
}

// Approve approves a claim and records its partner-of-record association.
// A claim in arbitration wins its case: the competing claims are rejected
// in the same transaction. A claim under review that has competition must
// go to arbitration first.
func (s *Service) Approve(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, Approve, RoleReviewer, "note", "", false)
}

// Reject rejects a claim; a reason is required. A claim rejected in
// arbitration leaves its case, which closes when no open claim remains.
func (s *Service) Reject(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, Reject, RoleReviewer, "reason", "Give the reason for the rejection; the partner sees it.", true)
}

// Withdraw ends a claim the partner no longer wants decided; a claim in
// arbitration leaves its case.
func (s *Service) Withdraw(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, Withdraw, RolePartner, "reason", "", false)
}

// CustomerDecline is the customer refusing an association request before
// the decision: the claim is rejected with the customer's words.
func (s *Service) CustomerDecline(ctx context.Context, req Request) (*models.Claim, error) {
	return s.withText(ctx, req, CustomerDecline, RoleCustomer, "reason", "", false)
}

// withText fires an event whose text input is checked (after the role, so
// that the wrong caller learns nothing from input errors): required, or
// optional and cleaned.
func (s *Service) withText(ctx context.Context, req Request, event Event, by Role, field, missing string, required bool) (*models.Claim, error) {
	if err := authorize(ctx, by); err != nil {
		return nil, err
	}
	var err error
	if required {
		req.Reason, err = textrule.Reason.Require(req.Reason, field, missing)
	} else {
		req.Reason, err = textrule.Reason.Clean(req.Reason, field)
	}
	if err != nil {
		return nil, err
	}
	return s.fireClaim(ctx, req, event, by)
}

// Diagrams draws the three machines as Mermaid state diagrams, in the
// order docs/state-machines.md shows them.
func (s *Service) Diagrams() []Diagram {
	return []Diagram{
		{"Claim", "claim", s.claims.Mermaid()},
		{"Arbitration case", "case", s.cases.Mermaid()},
		{"Association", "association", s.associations.Mermaid()},
	}
}

// Diagram is one machine's picture.
type Diagram struct{ Title, Anchor, Mermaid string }
