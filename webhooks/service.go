// Package webhooks lets organisations, and operators for every claim,
// receive signed HTTPS deliveries of what happens to claims: endpoints and
// their secrets (this file), the URL rules (urlcheck.go), the Standard
// Webhooks signature (sign.go) and the outbox channel that sends
// (sender.go).
package webhooks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
	"cpor/textrule"
)

// Limits of endpoints.
const (
	MaxEndpointsPerOwner = 20
	MaxDescription       = 500
	// RotationOverlap is how long the previous secret still signs after a
	// rotation, so receivers can switch without losing deliveries.
	RotationOverlap = 24 * time.Hour
)

// Service manages webhook endpoints and their deliveries.
type Service struct {
	db     *gorm.DB
	policy URLPolicy
	window time.Duration
	clock  func() time.Time
}

// New returns the service; window is how long a redelivered delivery is
// retried (24 h when zero); clock defaults to storage.Now.
func New(db *gorm.DB, policy URLPolicy, window time.Duration, clock func() time.Time) *Service {
	if clock == nil {
		clock = storage.Now
	}
	if window <= 0 {
		window = 24 * time.Hour
	}
	return &Service{db: db, policy: policy, window: window, clock: clock}
}

// Registration is a new endpoint.
type Registration struct {
	// OrganizationID is whose claims it receives: a partner admin's own
	// organisation (nil means theirs); nil for an operator means every
	// claim.
	OrganizationID *uuid.UUID
	URL            string
	Description    string
	EventTypes     []models.NotificationKind
}

// Register adds an endpoint and returns it with its signing secret, which
// is shown only now (and on rotation).
func (s *Service) Register(ctx context.Context, in Registration) (*models.WebhookEndpoint, string, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, "", err
	}
	owner, err := ownerFor(id, in.OrganizationID)
	if err != nil {
		return nil, "", err
	}
	kinds, err := eventTypes(in.EventTypes)
	if err != nil {
		return nil, "", err
	}
	description, err := s.checkEndpoint(in.URL, in.Description)
	if err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	now := s.clock()
	e := &models.WebhookEndpoint{
		ID: uuid.New(), OrganizationID: owner, URL: in.URL, Description: description, EventTypes: kinds,
		Secret: secret, CreatedBy: id.UserID, CreatedAt: now, UpdatedAt: now,
	}
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		// The owner's endpoints are counted under a lock on the owner, so two
		// registrations cannot both pass the limit.
		if err := storage.LockKey(tx.DB, "webhook-endpoints", ownerKey(owner)); err != nil {
			return err
		}
		var n int64
		if err := ownedBy(tx.DB, owner).Model(&models.WebhookEndpoint{}).Count(&n).Error; err != nil {
			return fmt.Errorf("count endpoints: %w", err)
		}
		if n >= MaxEndpointsPerOwner {
			return apperr.Invalidf("", "An owner has at most %d webhook endpoints; delete one first.", MaxEndpointsPerOwner)
		}
		return tx.Create(e).Error
	})
	if err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

func ownerKey(owner *uuid.UUID) string {
	if owner == nil {
		return "operators"
	}
	return owner.String()
}

func ownedBy(db *gorm.DB, owner *uuid.UUID) *gorm.DB {
	if owner == nil {
		return db.Where("organization_id IS NULL")
	}
	return db.Where("organization_id = ?", *owner)
}

// ownerFor is whose claims the caller may register an endpoint for.
func ownerFor(id *auth.Identity, org *uuid.UUID) (*uuid.UUID, error) {
	switch {
	case id.IsPartnerAdmin():
		if org != nil && *org != id.OrganizationID {
			return nil, apperr.Forbiddenf("You can register webhooks for your own organisation only.")
		}
		own := id.OrganizationID
		return &own, nil
	case id.IsOperator():
		if org != nil {
			return nil, apperr.Invalidf("organizationId", "Operators register webhooks for every claim; leave organizationId out.")
		}
		return nil, nil
	}
	return nil, apperr.Forbiddenf("Only partner admins (for their organisation) and operators (for every claim) can register webhooks.")
}

// eventTypes checks and stores the kinds an endpoint receives: ",A,B,".
func eventTypes(kinds []models.NotificationKind) (string, error) {
	if len(kinds) == 0 {
		return "", apperr.Invalidf("eventTypes", "Choose at least one event type.")
	}
	var seen []string
	for _, k := range kinds {
		if !slices.Contains(models.WebhookKinds, k) {
			return "", apperr.Invalidf("eventTypes", "%s is not an event webhooks receive; choose among %v.", apperr.Quote(string(k)), models.WebhookKinds)
		}
		if !slices.Contains(seen, string(k)) {
			seen = append(seen, string(k))
		}
	}
	slices.Sort(seen)
	return "," + strings.Join(seen, ",") + ",", nil
}

// Kinds are the event types an endpoint receives.
func Kinds(e *models.WebhookEndpoint) []models.NotificationKind {
	var out []models.NotificationKind
	for _, k := range strings.Split(strings.Trim(e.EventTypes, ","), ",") {
		if k != "" {
			out = append(out, models.NotificationKind(k))
		}
	}
	return out
}

// descriptionRule holds an endpoint's description: one line of free text.
var descriptionRule = textrule.Kind{MaxChars: MaxDescription}

// checkEndpoint checks the URL and returns the description cleaned.
func (s *Service) checkEndpoint(rawURL, description string) (string, error) {
	if err := s.policy.Check(rawURL); err != nil {
		return "", err
	}
	return descriptionRule.Clean(description, "description")
}

// manageable reads an endpoint the caller may manage, locked when tx
// changes it: a partner admin its organisation's, an operator any. Any
// other is NOT_FOUND, so as not to reveal it.
func manageable(db *gorm.DB, id *auth.Identity, endpointID uuid.UUID) (*models.WebhookEndpoint, error) {
	var e models.WebhookEndpoint
	err := storage.ForUpdate(db).Take(&e, "id = ?", endpointID).Error
	switch {
	case storage.IsNotFound(err):
		return nil, endpointNotFound(endpointID)
	case err != nil:
		return nil, fmt.Errorf("read endpoint: %w", err)
	}
	if !mayManage(id, &e) {
		return nil, endpointNotFound(endpointID)
	}
	return &e, nil
}

func mayManage(id *auth.Identity, e *models.WebhookEndpoint) bool {
	if id.IsOperator() {
		return true
	}
	return e.OrganizationID != nil && id.IsPartnerAdmin() && id.OrganizationID == *e.OrganizationID
}

func endpointNotFound(id uuid.UUID) error {
	return apperr.NotFoundf("endpointId", "There is no webhook endpoint %s of yours.", relay.UUIDGlobalID(relay.TypeWebhookEndpoint, id))
}

// change runs fn on an endpoint the caller may manage, in a transaction,
// and saves it.
func (s *Service) change(ctx context.Context, endpointID uuid.UUID, fn func(e *models.WebhookEndpoint) error) (*models.WebhookEndpoint, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	var out *models.WebhookEndpoint
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		e, err := manageable(tx.DB, id, endpointID)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		e.UpdatedAt = s.clock()
		out = e
		return tx.Save(e).Error
	})
	return out, err
}

// RotateSecret gives the endpoint a new secret, returned only now; the
// previous one signs deliveries too for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, endpointID uuid.UUID) (*models.WebhookEndpoint, string, error) {
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	e, err := s.change(ctx, endpointID, func(e *models.WebhookEndpoint) error {
		until := s.clock().Add(RotationOverlap)
		e.PreviousSecret, e.PreviousSecretUntil, e.Secret = e.Secret, &until, secret
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Update changes what is given: the URL, the description, the event types,
// or whether it is enabled (enabling clears the failure record).
type Update struct {
	URL         *string
	Description *string
	EventTypes  []models.NotificationKind
	Enabled     *bool
}

// Update changes an endpoint.
func (s *Service) Update(ctx context.Context, endpointID uuid.UUID, in Update) (*models.WebhookEndpoint, error) {
	return s.change(ctx, endpointID, func(e *models.WebhookEndpoint) error {
		// Only what changes is checked: an endpoint registered under an
		// older, looser policy can still be disabled or described.
		if in.URL != nil {
			if err := s.policy.Check(*in.URL); err != nil {
				return err
			}
			e.URL = *in.URL
		}
		if in.Description != nil {
			description, err := descriptionRule.Clean(*in.Description, "description")
			if err != nil {
				return err
			}
			e.Description = description
		}
		if in.EventTypes != nil {
			kinds, err := eventTypes(in.EventTypes)
			if err != nil {
				return err
			}
			e.EventTypes = kinds
		}
		if in.Enabled != nil {
			e.DisabledAt, e.DisabledReason, e.FailingSince = nil, "", nil
			if !*in.Enabled {
				now := s.clock()
				e.DisabledAt, e.DisabledReason = &now, "disabled by "+mustCaller(ctx)
			}
		}
		return nil
	})
}

func mustCaller(ctx context.Context) string {
	if id, err := auth.FromContext(ctx); err == nil {
		return id.DisplayName()
	}
	return "the service"
}

// Delete removes an endpoint; its pending deliveries fail, the others stay
// in the record.
func (s *Service) Delete(ctx context.Context, endpointID uuid.UUID) error {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return err
	}
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		if _, err := manageable(tx.DB, id, endpointID); err != nil {
			return err
		}
		err := tx.Model(&models.Delivery{}).Where("recipient = ? AND status = ?", endpointID.String(), models.DeliveryPending).
			Updates(map[string]any{"status": models.DeliveryFailed, "last_error": "endpoint deleted", "leased_until": nil}).Error
		if err != nil {
			return fmt.Errorf("fail the endpoint's pending deliveries: %w", err)
		}
		return tx.Delete(&models.WebhookEndpoint{}, "id = ?", endpointID).Error
	})
}

// List returns the endpoints the caller manages: a partner admin's
// organisation's, or every endpoint for an operator.
func (s *Service) List(ctx context.Context) ([]models.WebhookEndpoint, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Order("created_at, id")
	switch {
	case id.IsOperator():
	case id.IsPartnerAdmin():
		q = q.Where("organization_id = ?", id.OrganizationID)
	default:
		return nil, apperr.Forbiddenf("Only partner admins and operators manage webhooks.")
	}
	var out []models.WebhookEndpoint
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

// Get returns one endpoint the caller manages.
func (s *Service) Get(ctx context.Context, endpointID uuid.UUID) (*models.WebhookEndpoint, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	return manageable(s.db.WithContext(ctx), id, endpointID)
}
