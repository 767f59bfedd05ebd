package models

import (
	"time"

	"github.com/google/uuid"
)

// Claim is a partner's request to be recorded as partner of record.
type Claim struct {
	ID                uuid.UUID  `gorm:"type:uuid;primaryKey"`
	OrganizationID    uuid.UUID  `gorm:"type:uuid"`
	MpnID             *uuid.UUID `gorm:"type:uuid"`
	SolutionArea      SolutionArea
	Activity          Activity
	CustomerTenantID  uuid.UUID `gorm:"type:uuid"`
	CustomerDomain    string
	Name              string          // the partner's own name for the claim; may be empty
	ProductID         *uuid.UUID      `gorm:"type:uuid"`
	SubscriptionID    *uuid.UUID      `gorm:"type:uuid"`
	CustomerContact   CustomerContact `gorm:"embedded;embeddedPrefix:customer_contact_"`
	PartnerContact    PartnerContact  `gorm:"embedded;embeddedPrefix:partner_contact_"`
	Notes             string
	Status            ClaimStatus
	Version           int
	ReclaimedFromID   *uuid.UUID `gorm:"type:uuid"`
	ArbitrationCaseID *uuid.UUID `gorm:"type:uuid"`
	CreatedBy         string
	SubmittedAt       *time.Time
	// ReviewDueAt is nil while the claim waits for the partner: the review
	// clock stops and keeps ReviewTimeLeft.
	ReviewDueAt *time.Time
	// ResponseDueAt is when the partner's answer is due (ACTION_REQUIRED).
	ResponseDueAt *time.Time
	// ReviewTimeLeft is the review time, in seconds of business time, that
	// was left when the claim began to wait for the partner.
	ReviewTimeLeft *int64
	// ResumeStatus is the state a waiting claim returns to on an answer.
	ResumeStatus    *ClaimStatus
	CustomerConsent *CustomerConsent
	DecidedAt       *time.Time
	DecisionReason  string
	DecisionCode    *DecisionCode
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// CustomerContact is the customer's person who can confirm the claim.
type CustomerContact struct {
	Name  string
	Title string
	Email string
}

// PartnerContact is the partner's person the reviewer talks to.
type PartnerContact struct {
	Name  string
	Email string
}

// Overdue reports whether an open claim has passed its review deadline.
func (c *Claim) Overdue(now time.Time) bool {
	return Contains(ReviewingStatuses, c.Status) && c.ReviewDueAt != nil && now.After(*c.ReviewDueAt)
}

// Document is one proof-of-execution file; its bytes live in DocumentContent
// so listing documents never reads them.
type Document struct {
	ID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	ClaimID     uuid.UUID `gorm:"type:uuid"`
	FileName    string
	ContentType string
	SizeBytes   int64
	SHA256      string `gorm:"column:sha256"`
	UploadedBy  string
	UploadedAt  time.Time
	// ExecutedOn is the day the work the document proves was done.
	ExecutedOn Date `gorm:"type:date"`
}

// DocumentContent holds a document's bytes.
type DocumentContent struct {
	DocumentID uuid.UUID `gorm:"type:uuid;primaryKey"`
	Content    []byte
}

// Comment is one entry of a claim's thread.
type Comment struct {
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	ClaimID    uuid.UUID `gorm:"type:uuid"`
	Kind       CommentKind
	AuthorID   string
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

// ClaimEvent is one immutable line of a claim's audit history. Seq orders all
// events of all claims; subscribers resume from it.
type ClaimEvent struct {
	Seq            int64     `gorm:"primaryKey;autoIncrement"`
	ClaimID        uuid.UUID `gorm:"type:uuid"`
	OrganizationID uuid.UUID `gorm:"type:uuid"`
	Type           EventType
	Event          string
	FromStatus     *ClaimStatus
	ToStatus       *ClaimStatus
	Version        int
	ActorID        string
	ActorName      string
	ActorKind      ActorKind
	Reason         string
	CommentID      *uuid.UUID `gorm:"type:uuid"`
	DocumentID     *uuid.UUID `gorm:"type:uuid"`
	CreatedAt      time.Time
	// CustomerTenantID is the claim's customer tenant as the writer knew
	// it; not stored, only announced, so that a live hub can tell whether
	// a customer admin may want the event without reading it.
	CustomerTenantID uuid.UUID `gorm:"-"`
}

// Association is a recorded partner of record. At most one is active (EndedAt
// nil) per customer tenant, product and activity; the database enforces it.
type Association struct {
	ID               uuid.UUID  `gorm:"type:uuid;primaryKey"`
	ClaimID          uuid.UUID  `gorm:"type:uuid"`
	OrganizationID   uuid.UUID  `gorm:"type:uuid"`
	CustomerTenantID uuid.UUID  `gorm:"type:uuid"`
	ProductID        uuid.UUID  `gorm:"type:uuid"`
	SubscriptionID   *uuid.UUID `gorm:"type:uuid"`
	Activity         Activity
	StartedAt        time.Time
	EndedAt          *time.Time
	EndReason        *AssociationEndReason
}

// Active reports whether the association is current.
func (a *Association) Active() bool { return a.EndedAt == nil }

// ArbitrationCase groups the competing claims on one customer tenant, product
// and activity. HolderAssociationID is the association it challenges, if any.
type ArbitrationCase struct {
	ID                  uuid.UUID `gorm:"type:uuid;primaryKey"`
	CustomerTenantID    uuid.UUID `gorm:"type:uuid"`
	ProductID           uuid.UUID `gorm:"type:uuid"`
	Activity            Activity
	Status              ArbitrationStatus
	HolderAssociationID *uuid.UUID `gorm:"type:uuid"`
	WinningClaimID      *uuid.UUID `gorm:"type:uuid"`
	Resolution          string
	ResolvedBy          string
	OpenedAt            time.Time
	ResolvedAt          *time.Time
}
