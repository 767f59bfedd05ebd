package models

// The enumerations below are stored as text; CHECK constraints in the
// migrations hold the database to the same value sets.

type SolutionArea string

const (
	BusinessApplications SolutionArea = "BUSINESS_APPLICATIONS"
	Microsoft365         SolutionArea = "MICROSOFT_365"
)

var SolutionAreas = []SolutionArea{BusinessApplications, Microsoft365}

type Activity string

const (
	Presales           Activity = "PRESALES"
	Usage              Activity = "USAGE"
	RevenueAssociation Activity = "REVENUE_ASSOCIATION"
)

var Activities = []Activity{Presales, Usage, RevenueAssociation}

type ProductKind string

const (
	KindProduct  ProductKind = "PRODUCT"
	KindWorkload ProductKind = "WORKLOAD"
)

type PurchaseChannel string

const (
	VolumeLicensing PurchaseChannel = "VOLUME_LICENSING"
	WebDirect       PurchaseChannel = "WEB_DIRECT"
	CSP             PurchaseChannel = "CSP"
)

var PurchaseChannels = []PurchaseChannel{VolumeLicensing, WebDirect, CSP}

type ProvisioningState string

const (
	ProvisioningPending ProvisioningState = "PENDING"
	Provisioned         ProvisioningState = "PROVISIONED"
)

var ProvisioningStates = []ProvisioningState{ProvisioningPending, Provisioned}

type SubscriptionStatus string

const (
	SubscriptionActive    SubscriptionStatus = "ACTIVE"
	SubscriptionInGrace   SubscriptionStatus = "IN_GRACE"
	SubscriptionExpired   SubscriptionStatus = "EXPIRED"
	SubscriptionSuspended SubscriptionStatus = "SUSPENDED"
	SubscriptionDisabled  SubscriptionStatus = "DISABLED"
	SubscriptionDeleted   SubscriptionStatus = "DELETED"
)

var SubscriptionStatuses = []SubscriptionStatus{
	SubscriptionActive, SubscriptionInGrace, SubscriptionExpired,
	SubscriptionSuspended, SubscriptionDisabled, SubscriptionDeleted,
}

type ClaimStatus string

const (
	Draft          ClaimStatus = "DRAFT"
	Submitted      ClaimStatus = "SUBMITTED"
	UnderReview    ClaimStatus = "UNDER_REVIEW"
	ActionRequired ClaimStatus = "ACTION_REQUIRED"
	Arbitration    ClaimStatus = "ARBITRATION"
	Approved       ClaimStatus = "APPROVED"
	Rejected       ClaimStatus = "REJECTED"
	Withdrawn      ClaimStatus = "WITHDRAWN"
	Expired        ClaimStatus = "EXPIRED"
)

var ClaimStatuses = []ClaimStatus{Draft, Submitted, UnderReview, ActionRequired, Arbitration, Approved, Rejected, Withdrawn, Expired}

// OpenStatuses are the states of a claim that waits for a decision.
var OpenStatuses = []ClaimStatus{Submitted, UnderReview, ActionRequired, Arbitration}

// ReviewingStatuses are the open states in which the review clock runs; it
// stops while the partner owes an answer (ACTION_REQUIRED).
var ReviewingStatuses = []ClaimStatus{Submitted, UnderReview, Arbitration}

// HoldingStatuses are the states in which a claim blocks another claim of the
// same organisation on the same subscription and activity.
var HoldingStatuses = []ClaimStatus{Submitted, UnderReview, ActionRequired, Arbitration, Approved}

// FinalStatuses are the states no event leaves.
var FinalStatuses = []ClaimStatus{Approved, Rejected, Withdrawn, Expired}

// IsOpen reports whether the claim still waits for a review decision.
func (s ClaimStatus) IsOpen() bool { return Contains(OpenStatuses, s) }

// IsFinal reports whether the claim has reached an end.
func (s ClaimStatus) IsFinal() bool { return Contains(FinalStatuses, s) }

// CustomerConsent is what the customer said to an association request:
// silence is consent, so PENDING lasts until a decision.
type CustomerConsent string

const (
	ConsentPending  CustomerConsent = "PENDING"
	ConsentDeclined CustomerConsent = "DECLINED"
)

// DecisionCode says why a claim was decided without a reviewer's choice.
type DecisionCode string

const (
	NoPartnerResponse DecisionCode = "NO_PARTNER_RESPONSE"
	CustomerDeclined  DecisionCode = "CUSTOMER_DECLINED"
)

type CommentKind string

const (
	CommentPartner            CommentKind = "PARTNER"
	CommentReviewer           CommentKind = "REVIEWER"
	CommentSystem             CommentKind = "SYSTEM"
	CommentInformationRequest CommentKind = "INFORMATION_REQUEST"
)

type EventType string

const (
	EventCreated          EventType = "CREATED"
	EventUpdated          EventType = "UPDATED"
	EventStatusChanged    EventType = "STATUS_CHANGED"
	EventCommentAdded     EventType = "COMMENT_ADDED"
	EventDocumentAttached EventType = "DOCUMENT_ATTACHED"
	EventCustomerNotified EventType = "CUSTOMER_NOTIFIED"
	EventAssociationEnded EventType = "ASSOCIATION_ENDED"
	EventReclaimed        EventType = "RECLAIMED"
	EventDeadlineWarning  EventType = "DEADLINE_WARNING"
)

type ActorKind string

const (
	ActorPartner  ActorKind = "PARTNER"
	ActorReviewer ActorKind = "REVIEWER"
	ActorOperator ActorKind = "OPERATOR"
	ActorCustomer ActorKind = "CUSTOMER"
	ActorSystem   ActorKind = "SYSTEM"
)

type AssociationEndReason string

const (
	EndArbitrationLost AssociationEndReason = "ARBITRATION_LOST"
	EndCustomerDecline AssociationEndReason = "CUSTOMER_DECLINED"
	EndSuperseded      AssociationEndReason = "SUPERSEDED"
	EndByPartner       AssociationEndReason = "PARTNER_ENDED"
)

type ArbitrationStatus string

const (
	ArbitrationOpen     ArbitrationStatus = "OPEN"
	ArbitrationResolved ArbitrationStatus = "RESOLVED"
	// ArbitrationClosed is a case that ended undecided: withdrawals left
	// fewer than two parties to weigh.
	ArbitrationClosed ArbitrationStatus = "CLOSED"
)

// Contains reports whether v is one of values; it validates enum input.
func Contains[T comparable](values []T, v T) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}
