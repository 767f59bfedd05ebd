// Package claims keeps claims outside of their state transitions: drafts
// (create, update, reclaim), reading and listing with authorisation, proof
// of execution documents and the comment thread.
package claims

import (
	"context"
	"fmt"

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
}

// NewService returns the claims service.
func NewService(db *gorm.DB, log *events.Log, calendar *sla.Calendar, limits DocumentLimits) *Service {
	return &Service{db: db, log: log, calendar: calendar, limits: limits}
}

// Calendar is the review-deadline calendar the service was built with.
func (s *Service) Calendar() *sla.Calendar { return s.calendar }

// CanRead reports whether the caller may see the claim: its organisation's
// partner admins and reviewers may.
func CanRead(id *auth.Identity, c *models.Claim) bool {
	return id.CanSeeOrganisation(c.OrganizationID)
}

// requireClaimReader fails unless the caller may read some claims at all: a
// partner user without an admin role is FORBIDDEN, as is a customer or an
// operator.
func requireClaimReader(id *auth.Identity) error {
	if id.IsReviewer() {
		return nil
	}
	return id.RequirePartnerAdmin()
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
	err := q.Where("id = ?", claimID).Take(&c).Error
	if storage.IsNotFound(err) || (err == nil && !CanRead(id, &c)) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load claim: %w", err)
	}
	return &c, nil
}

func notFound() error {
	return apperr.NotFoundf("claimId", "No such claim, or it is not your organisation's; check the claim ID.")
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
	}
}

// AuthorizeFollow checks that the caller may follow live events of the
// claim (or, with no claim, of the claims it may see) and returns the
// identity each event is checked against when delivered.
func (s *Service) AuthorizeFollow(ctx context.Context, claimID *uuid.UUID) (*auth.Identity, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	if claimID != nil {
		if _, err := Load(s.db.WithContext(ctx), id, *claimID, false); err != nil {
			return nil, err
		}
	}
	return id, nil
}
