// Package models holds the GORM models: one struct per table, with the
// relations the service loads. Rules live in the domain packages.
package models

import (
	"time"

	"github.com/google/uuid"
)

// PartnerOrganization is a Microsoft partner that claims associations.
type PartnerOrganization struct {
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Name      string
	CreatedAt time.Time
}

// Mpn is a partner location (MPN ID) of an organisation. PartnerType is
// internal: the claim flow never shows it to partners.
type Mpn struct {
	ID                uuid.UUID `gorm:"type:uuid;primaryKey"`
	OrganizationID    uuid.UUID `gorm:"type:uuid"`
	PartnerLocationID int64
	Name              string
	Location          string
	PartnerType       string
	EnrolledAt        *time.Time
	EnrolledBy        string
	CreatedAt         time.Time
}

// Enrolled reports whether the MPN is enrolled in an incentive program.
func (m *Mpn) Enrolled() bool { return m.EnrolledAt != nil }

// CustomerTenant is a customer's directory; its ID is the tenant ID (GUID).
type CustomerTenant struct {
	ID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	DisplayName string
	Domains     []TenantDomain `gorm:"foreignKey:TenantID"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TenantDomainOrder lists a tenant's domains initial first, then by name.
const TenantDomainOrder = "is_initial DESC, domain"

// TenantDomain is one verified domain of a tenant, stored lower case.
type TenantDomain struct {
	Domain    string    `gorm:"primaryKey"`
	TenantID  uuid.UUID `gorm:"type:uuid"`
	IsInitial bool
}

// Product is a Dynamics 365 product (Business Applications) or a Microsoft
// 365 product or workload.
type Product struct {
	ID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	Code         string
	Name         string
	SolutionArea SolutionArea
	Kind         ProductKind
	Dynamics     bool
}

// TenantWorkload records that a Microsoft 365 workload is in use on a tenant.
type TenantWorkload struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ProductID uuid.UUID `gorm:"type:uuid;primaryKey"`
	CreatedAt time.Time
}

// Subscription is a customer's subscription to one product.
type Subscription struct {
	ID                uuid.UUID  `gorm:"type:uuid;primaryKey"`
	TenantID          uuid.UUID  `gorm:"type:uuid"`
	ProductID         uuid.UUID  `gorm:"type:uuid"`
	OrderID           *uuid.UUID `gorm:"type:uuid"`
	Channel           PurchaseChannel
	ProvisioningState ProvisioningState
	Status            SubscriptionStatus
	StartsAt          time.Time
	EndsAt            *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// InService reports whether the subscription's status allows a claim:
// active or in grace.
func (s *Subscription) InService() bool {
	return s.Status == SubscriptionActive || s.Status == SubscriptionInGrace
}

// Claimable reports whether the subscription can be claimed as far as its
// own state goes, as the schema's claimable says: in service and
// provisioned.
func (s *Subscription) Claimable() bool {
	return s.InService() && s.ProvisioningState == Provisioned
}
