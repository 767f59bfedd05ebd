// Package auth verifies bearer tokens and carries the caller's identity
// through the context. The domain packages ask the identity what it may do;
// nothing outside this package reads tokens.
package auth

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/models"
)

// Role is a role carried by a token.
type Role string

const (
	GlobalAdmin     Role = "GLOBAL_ADMIN"
	BillingAdmin    Role = "BILLING_ADMIN"
	IncentivesAdmin Role = "INCENTIVES_ADMIN"
	Reviewer        Role = "REVIEWER"
	Operator        Role = "OPERATOR"
	CustomerAdmin   Role = "CUSTOMER_ADMIN"
)

// partnerAdminRoles may work with their organisation's claims.
var partnerAdminRoles = []Role{GlobalAdmin, BillingAdmin, IncentivesAdmin}

// Identity is the authenticated caller.
type Identity struct {
	UserID         string
	Name           string
	Email          string
	OrganizationID uuid.UUID // partner organisation; uuid.Nil when none
	TenantID       uuid.UUID // customer tenant of a customer admin; uuid.Nil when none
	Roles          []Role
	// ExpiresAt is when the token stops being valid; live subscriptions
	// end then. Zero means no expiry is known.
	ExpiresAt time.Time
}

// Has reports whether the identity carries the role.
func (id *Identity) Has(role Role) bool { return slices.Contains(id.Roles, role) }

// IsPartner reports whether the caller belongs to a partner organisation.
func (id *Identity) IsPartner() bool { return id.OrganizationID != uuid.Nil }

// IsPartnerAdmin reports whether the caller may work with its organisation's claims.
func (id *Identity) IsPartnerAdmin() bool {
	return id.IsPartner() && slices.ContainsFunc(partnerAdminRoles, id.Has)
}

func (id *Identity) IsReviewer() bool { return id.Has(Reviewer) }
func (id *Identity) IsOperator() bool { return id.Has(Operator) }

// IsCustomerAdmin reports whether the caller administers a customer tenant.
func (id *Identity) IsCustomerAdmin() bool { return id.Has(CustomerAdmin) && id.TenantID != uuid.Nil }

// CanSeeOrganisation reports whether the caller may read data owned by the
// partner organisation: its own admins and reviewers may.
func (id *Identity) CanSeeOrganisation(org uuid.UUID) bool {
	return id.IsReviewer() || (id.IsPartnerAdmin() && id.OrganizationID == org)
}

// RequirePartnerAdmin fails with FORBIDDEN unless the caller is a partner
// admin.
func (id *Identity) RequirePartnerAdmin() error {
	if id.IsPartnerAdmin() {
		return nil
	}
	return apperr.Forbiddenf("Only a Global admin, Billing admin or Incentives admin of a partner organisation can work with claims; ask your organisation's Global admin for one of these roles.")
}

// RequireReviewer fails with FORBIDDEN unless the caller is a reviewer.
func (id *Identity) RequireReviewer() error {
	if id.IsReviewer() {
		return nil
	}
	return apperr.Forbiddenf("Only a Microsoft reviewer can do this.")
}

// RequireOperator fails with FORBIDDEN unless the caller is a catalog operator.
func (id *Identity) RequireOperator() error {
	if id.IsOperator() {
		return nil
	}
	return apperr.Forbiddenf("Only a catalog operator can change customer tenants, products and subscriptions.")
}

// RequireMpnEnroller fails with FORBIDDEN unless the caller may enroll MPNs.
func (id *Identity) RequireMpnEnroller() error {
	if id.IsPartner() && (id.Has(GlobalAdmin) || id.Has(IncentivesAdmin)) {
		return nil
	}
	return apperr.Forbiddenf("Only a Global admin or Incentives admin can enroll an MPN in incentive programs.")
}

// ActorKind says in which capacity the caller acts, for the audit history.
func (id *Identity) ActorKind() models.ActorKind {
	switch {
	case id.IsReviewer():
		return models.ActorReviewer
	case id.IsPartner():
		return models.ActorPartner
	case id.IsOperator():
		return models.ActorOperator
	case id.IsCustomerAdmin():
		return models.ActorCustomer
	}
	return models.ActorPartner
}

// DisplayName is the name recorded in histories and comments.
func (id *Identity) DisplayName() string {
	if id.Name != "" {
		return id.Name
	}
	return id.UserID
}

type ctxKey struct{}

// WithIdentity returns a context carrying the identity.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller, or UNAUTHENTICATED when the request carried
// no token.
func FromContext(ctx context.Context) (*Identity, error) {
	if id, ok := ctx.Value(ctxKey{}).(*Identity); ok && id != nil {
		return id, nil
	}
	return nil, apperr.Unauthenticatedf("Sign in: send a bearer token in the Authorization header.")
}
