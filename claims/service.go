// Package claims keeps claims outside of their state transitions: drafts
// (create, update, reclaim), reading and listing with authorisation, proof
// of execution documents and the comment thread.
package claims

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/events"
	"cpor/models"
	"cpor/sla"
	"cpor/storage"
)

// Service is the claims domain service.
type Service struct {
	db       *gorm.DB
	log      *events.Log
	calendar *sla.Calendar
	limits   DocumentLimits
	// onDraftCreated runs in the transaction that creates a draft: the
	// workflow leaves the draft's expiry with the scheduler there.
	onDraftCreated func(*storage.Tx, *models.Claim) error
}

// OnDraftCreated sets what runs in the transaction of every new draft.
func (s *Service) OnDraftCreated(fn func(*storage.Tx, *models.Claim) error) { s.onDraftCreated = fn }

// NewService returns the claims service.
func NewService(db *gorm.DB, log *events.Log, calendar *sla.Calendar, limits DocumentLimits) *Service {
	return &Service{db: db, log: log, calendar: calendar, limits: limits}
}

// Calendar is the review-deadline calendar the service was built with.
func (s *Service) Calendar() *sla.Calendar { return s.calendar }

// CanRead reports whether the caller may see the claim: its organisation's
// partner admins and reviewers may, and a customer admin may see its
// tenant's claims once submitted (the customer is told of a claim at
// submit, so a draft stays the partner's own; docs/product.md). scope is
// the same rule in SQL: change both together.
func CanRead(id *auth.Identity, c *models.Claim) bool {
	return id.CanSeeOrganisation(c.OrganizationID) || customerSees(id, c)
}

// customerSees reports whether the claim is one of the customer admin's
// tenant's submitted claims.
func customerSees(id *auth.Identity, c *models.Claim) bool {
	return id.IsCustomerAdmin() && c.CustomerTenantID == id.TenantID && c.SubmittedAt != nil
}

// scope narrows q (over claims) to the claims the caller may see, as
// CanRead decides one claim. Every list of claims starts from it.
func scope(q *gorm.DB, id *auth.Identity) *gorm.DB {
	if id.IsReviewer() {
		return q
	}
	var where []string
	var args []any
	if id.IsPartnerAdmin() {
		where, args = append(where, "claims.organization_id = ?"), append(args, id.OrganizationID)
	}
	if id.IsCustomerAdmin() {
		where = append(where, "(claims.customer_tenant_id = ? AND claims.submitted_at IS NOT NULL)")
		args = append(args, id.TenantID)
	}
	if len(where) == 0 {
		return q.Where("1 = 0") // requireClaimReader refuses such a caller first
	}
	return q.Where("("+strings.Join(where, " OR ")+")", args...)
}

// requireClaimReader fails unless the caller may read some claims at all: a
// partner user without an admin role is FORBIDDEN, as is an operator.
func requireClaimReader(id *auth.Identity) error {
	if id.IsReviewer() || id.IsCustomerAdmin() {
		return nil
	}
	return id.RequirePartnerAdmin()
}

// CanReadDetail reports whether the caller may see the whole claim: its
// comments, proof of execution, history, notes, contacts and MPN. A customer
// admin sees only who claims what and how it stands (docs/product.md); the
// rest is between the partner and the reviewers.
func CanReadDetail(id *auth.Identity, c *models.Claim) bool {
	return id.CanSeeOrganisation(c.OrganizationID)
}

// RequireDetail fails unless the caller may see the whole of a claim it can
// read: FORBIDDEN for a customer admin, NOT_FOUND for a claim it cannot
// read at all.
func RequireDetail(id *auth.Identity, c *models.Claim) error {
	if CanReadDetail(id, c) {
		return nil
	}
	if !CanRead(id, c) {
		return notFound()
	}
	return detailForbidden()
}

func detailForbidden() error {
	return apperr.Forbiddenf("A customer admin sees a claim's partner, product, activity, status, dates and decision; " +
		"its comments, proof of execution, history, notes, contacts and MPN stay with the partner and the reviewers. " +
		"Leave these fields out of your query.")
}

// Get returns a claim the caller may read. Claims of other organisations are
// NOT_FOUND: their existence is not revealed.
func (s *Service) Get(ctx context.Context, claimID uuid.UUID) (*models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	return Load(s.db.WithContext(ctx), id, claimID, false)
}

// Load reads a claim for the caller inside db (which may be a transaction),
// optionally locking its row until the transaction ends.
func Load(db *gorm.DB, id *auth.Identity, claimID uuid.UUID, forUpdate bool) (*models.Claim, error) {
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	q := db
	if forUpdate {
		q = storage.ForUpdate(db)
	}
	var c models.Claim
	return readable(id, &c, q.Where("id = ?", claimID).Take(&c).Error)
}

// readable is the caller's view of a claim row read with err: NOT_FOUND
// when there is none or the caller may not read it.
func readable(id *auth.Identity, c *models.Claim, err error) (*models.Claim, error) {
	if storage.IsNotFound(err) || (err == nil && !CanRead(id, c)) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load claim: %w", err)
	}
	return c, nil
}

// Change says what a change reads with its claim, in the same statement.
type Change struct {
	// CompetitionLock takes the lock of the claim's competition key
	// (CompetitionKey) before the row lock: decisions about one customer,
	// product and activity take it before any row lock, so a change that
	// might make one must too.
	CompetitionLock bool
	// CountDocuments counts the claim's proof-of-execution documents and
	// reads the newest day their work was done.
	CountDocuments bool
}

// Changing is a claim read and locked for a change.
type Changing struct {
	models.Claim `gorm:"embedded"`
	// Documents is the number of the claim's documents, when counted.
	Documents int64 `gorm:"column:document_count"`
	// NewestProof is the latest day the work of one of its documents was
	// done, when counted and there is a document.
	NewestProof *models.Date `gorm:"column:newest_proof"`
}

// LoadForChange reads a claim for the caller inside the transaction db and
// locks it until the transaction ends, with what the change asks for, in one
// statement: one round trip where reading the claim to learn its key, taking
// the key's lock, reading it again with its row lock and counting its
// documents took four.
func LoadForChange(db *gorm.DB, id *auth.Identity, claimID uuid.UUID, what Change) (*Changing, error) {
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	var c Changing
	if _, err := readable(id, &c.Claim, lockForChange(db, claimID, what).Take(&c).Error); err != nil {
		return nil, err
	}
	return &c, nil
}

func lockForChange(db *gorm.DB, claimID uuid.UUID, what Change) *gorm.DB {
	q := storage.ForUpdate(db).Table("claims")
	if what.CompetitionLock {
		q = q.Where(storage.LockingKeyOf(db, "id = @id", competitionKeyColumns...), sql.Named("id", claimID))
	} else {
		q = q.Where("id = ?", claimID)
	}
	if what.CountDocuments {
		q = q.Select("claims.*, (SELECT count(*) FROM documents WHERE documents.claim_id = claims.id) AS document_count, " +
			"(SELECT max(executed_on) FROM documents WHERE documents.claim_id = claims.id) AS newest_proof")
	}
	return q
}

// LoadForSystem is LoadForChange for the service itself (the scheduler's
// lapses and expiries), which reads every claim.
func LoadForSystem(db *gorm.DB, claimID uuid.UUID, what Change) (*Changing, error) {
	var c Changing
	if err := lockForChange(db, claimID, what).Take(&c).Error; err != nil {
		if storage.IsNotFound(err) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("load claim: %w", err)
	}
	return &c, nil
}

// competitionKey names the lock of decisions about one customer, product and
// activity (see CompetitionKey).
const competitionKey = "competition"

// CompetitionKey is the lock key (storage.LockKey) under which decisions
// about one customer, product and activity run one at a time: starting a
// review, escalating, approving, resolving arbitration, ending an
// association.
func CompetitionKey(tenant, product uuid.UUID, activity models.Activity) []string {
	return []string{competitionKey, tenant.String(), product.String(), string(activity)}
}

// competitionKeyColumns is CompetitionKey over a claims row, as SQL. UUIDs
// read as text in the form uuid.UUID.String writes.
var competitionKeyColumns = []string{
	"'" + competitionKey + "'", "CAST(customer_tenant_id AS text)", "CAST(product_id AS text)", "activity",
}

func notFound() error {
	return apperr.NotFoundf("claimId", "No such claim, or not one you may see (another organisation's, or for a customer admin another tenant's or a draft); check the claim ID.")
}

// checkVersion fails with STALE_CLAIM when the client read an older version.
func checkVersion(c *models.Claim, expected *int) error {
	if expected != nil && *expected != c.Version {
		return StaleClaim(c, *expected)
	}
	return nil
}

// StaleClaim is the error for a client that read version expected of a claim
// that has moved on.
func StaleClaim(c *models.Claim, expected int) error {
	return apperr.New(apperr.StaleClaim, "expectedVersion",
		"The claim changed since you read it (you have version %d, it is now at version %d, %s); reload it and try again.",
		expected, c.Version, c.Status)
}

// EventFor starts an event on the claim by the caller.
func EventFor(c *models.Claim, id *auth.Identity, typ models.EventType) *models.ClaimEvent {
	return &models.ClaimEvent{
		ClaimID:        c.ID,
		OrganizationID: c.OrganizationID,
		Type:           typ,
		Version:        c.Version,
		ActorID:        id.UserID,
		ActorName:      id.DisplayName(),
		ActorKind:      id.ActorKind(),

		CustomerTenantID: c.CustomerTenantID,
	}
}

// SystemEvent starts an event the service itself causes.
func SystemEvent(c *models.Claim, typ models.EventType) *models.ClaimEvent {
	return &models.ClaimEvent{
		ClaimID:        c.ID,
		OrganizationID: c.OrganizationID,
		Type:           typ,
		Version:        c.Version,
		ActorID:        "system",
		ActorName:      "CPOR",
		ActorKind:      models.ActorSystem,

		CustomerTenantID: c.CustomerTenantID,
	}
}

// Following is what a live subscription follows.
type Following int

const (
	FollowStatus Following = iota
	FollowComments
)

// AuthorizeFollow checks that the caller may follow live events of the
// claim (or, with no claim, of the claims it may see) and returns the
// identity each event is checked against when delivered. Comments are a
// claim's detail (RequireDetail): a customer admin may not follow them.
func (s *Service) AuthorizeFollow(ctx context.Context, claimID *uuid.UUID, what Following) (*auth.Identity, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	if claimID == nil {
		if what == FollowComments && !id.IsReviewer() && !id.IsPartnerAdmin() {
			return nil, detailForbidden()
		}
		return id, nil
	}
	c, err := Load(s.db.WithContext(ctx), id, *claimID, false)
	if err != nil {
		return nil, err
	}
	if what == FollowComments {
		if err := RequireDetail(id, c); err != nil {
			return nil, err
		}
	}
	return id, nil
}
