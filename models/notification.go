package models

import (
	"time"

	"github.com/google/uuid"
)

// Audience is a group of people a notification is for; every member sees
// it in their inbox.
type Audience string

const (
	// AudiencePartnerAdmins are the partner admins of one organisation.
	AudiencePartnerAdmins Audience = "PARTNER_ADMINS"
	AudienceReviewers     Audience = "REVIEWERS"
	// AudienceCustomerAdmins are the admins of one customer tenant.
	AudienceCustomerAdmins Audience = "CUSTOMER_ADMINS"
	AudienceOperators      Audience = "OPERATORS"
)

// NotificationKind is what a notification tells; webhooks subscribe to
// kinds.
type NotificationKind string

const (
	NotifySubmitted            NotificationKind = "CLAIM_SUBMITTED"
	NotifyStatusChanged        NotificationKind = "CLAIM_STATUS_CHANGED"
	NotifyInformationRequested NotificationKind = "INFORMATION_REQUESTED"
	NotifyPartnerResponded     NotificationKind = "PARTNER_RESPONDED"
	NotifyDeadlineWarning      NotificationKind = "DEADLINE_WARNING"
	NotifyApproved             NotificationKind = "CLAIM_APPROVED"
	NotifyRejected             NotificationKind = "CLAIM_REJECTED"
	NotifyWebhookDisabled      NotificationKind = "WEBHOOK_DISABLED"
)

// WebhookKinds are the kinds a webhook endpoint may receive: what a partner
// organisation is told of its claims.
var WebhookKinds = []NotificationKind{
	NotifySubmitted, NotifyStatusChanged, NotifyInformationRequested,
	NotifyDeadlineWarning, NotifyApproved, NotifyRejected,
}

// Notification is one message to an audience, in the words the inbox, the
// e-mail and the webhook use.
type Notification struct {
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	Audience   Audience
	AudienceID *uuid.UUID `gorm:"type:uuid"`
	Kind       NotificationKind
	ClaimID    *uuid.UUID `gorm:"type:uuid"`
	ClaimName  string
	// ClaimStatus is the claim's status when the notification was written.
	ClaimStatus ClaimStatus
	Title       string
	Body        string
	// NextStep says what the reader should do, if anything.
	NextStep  string
	CreatedAt time.Time
}

// NotificationRead records that a user has read a notification.
type NotificationRead struct {
	NotificationID uuid.UUID `gorm:"type:uuid;primaryKey"`
	UserID         string    `gorm:"primaryKey"`
	ReadAt         time.Time
}

// NotificationPreference is how a person wants to hear of notifications
// beyond the inbox.
type NotificationPreference string

const (
	PreferInAppOnly      NotificationPreference = "IN_APP_ONLY"
	PreferEmailImmediate NotificationPreference = "EMAIL_IMMEDIATE"
	PreferDailyDigest    NotificationPreference = "DAILY_DIGEST"
)

var NotificationPreferences = []NotificationPreference{PreferInAppOnly, PreferEmailImmediate, PreferDailyDigest}

// NotificationRecipient is a person the service may e-mail: who they are
// as their token said, the audiences they belong to, and their preference.
type NotificationRecipient struct {
	UserID         string `gorm:"primaryKey"`
	Email          string
	Name           string
	OrganizationID *uuid.UUID `gorm:"type:uuid"`
	TenantID       *uuid.UUID `gorm:"type:uuid"`
	Reviewer       bool
	Operator       bool
	Preference     NotificationPreference
	// DigestThrough is when the last digest's notifications end.
	DigestThrough *time.Time
	UpdatedAt     time.Time
}

// Channel is how a delivery leaves the service.
type Channel string

const (
	ChannelEmail   Channel = "EMAIL"
	ChannelWebhook Channel = "WEBHOOK"
)

type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "PENDING"
	DeliveryDelivered DeliveryStatus = "DELIVERED"
	DeliveryFailed    DeliveryStatus = "FAILED"
)

// Delivery is one outbox row: a message to send by one channel to one
// recipient. Its ID is the idempotency key the receiver sees (the webhook-id
// header, the e-mail's Message-ID).
type Delivery struct {
	ID             uuid.UUID `gorm:"type:uuid;primaryKey"`
	Channel        Channel
	NotificationID *uuid.UUID `gorm:"type:uuid"`
	// Recipient is a user ID (e-mail) or a webhook endpoint ID.
	Recipient string
	// Address is the e-mail address, or the webhook event type.
	Address       string
	Payload       string
	Status        DeliveryStatus
	Attempts      int
	NextAttemptAt time.Time
	LeasedUntil   *time.Time
	GiveUpAt      time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// DeliveryAttempt is one try at sending a delivery.
type DeliveryAttempt struct {
	ID          int64     `gorm:"primaryKey;autoIncrement"`
	DeliveryID  uuid.UUID `gorm:"type:uuid"`
	AttemptedAt time.Time
	LatencyMs   int
	// StatusCode is a webhook receiver's HTTP status; nil when none came.
	StatusCode *int
	Error      string
}

// WebhookEndpoint is an HTTPS endpoint receiving signed deliveries of an
// organisation's claims, or of every claim when OrganizationID is nil (an
// operator's).
type WebhookEndpoint struct {
	ID             uuid.UUID  `gorm:"type:uuid;primaryKey"`
	OrganizationID *uuid.UUID `gorm:"type:uuid"`
	URL            string
	Description    string
	// EventTypes holds the kinds received, each between commas: ",A,B,".
	EventTypes          string
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	CreatedBy           string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	FailingSince        *time.Time
	DisabledAt          *time.Time
	DisabledReason      string
}
