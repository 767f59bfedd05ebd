package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/models"
)

// TestNotices holds the recipient rules: who is told of which event, with
// which kind.
func TestNotices(t *testing.T) {
	st := func(s models.ClaimStatus) *models.ClaimStatus { return &s }
	change := func(event string, from, to models.ClaimStatus) *models.ClaimEvent {
		return &models.ClaimEvent{Type: models.EventStatusChanged, Event: event, FromStatus: st(from), ToStatus: st(to), ActorName: "Ada", ActorKind: models.ActorPartner}
	}
	declined := models.CustomerDeclined
	tests := []struct {
		name  string
		event *models.ClaimEvent
		claim func(*models.Claim)
		want  []string // audience/kind
	}{
		{"submit", change("submit", models.Draft, models.Submitted), nil,
			[]string{"PARTNER_ADMINS/CLAIM_SUBMITTED", "REVIEWERS/CLAIM_SUBMITTED", "CUSTOMER_ADMINS/CLAIM_SUBMITTED"}},
		{"start review", change("startReview", models.Submitted, models.UnderReview), nil,
			[]string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED"}},
		{"information request", change("requestInformation", models.UnderReview, models.ActionRequired), nil,
			[]string{"PARTNER_ADMINS/INFORMATION_REQUESTED"}},
		{"partner answer", change("respond", models.ActionRequired, models.UnderReview), nil,
			[]string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED", "REVIEWERS/PARTNER_RESPONDED"}},
		{"escalation", change("escalate", models.UnderReview, models.Arbitration), nil,
			[]string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED"}},
		{"approval", change("approve", models.UnderReview, models.Approved), nil,
			[]string{"PARTNER_ADMINS/CLAIM_APPROVED", "CUSTOMER_ADMINS/CLAIM_APPROVED"}},
		{"rejection", change("reject", models.UnderReview, models.Rejected), nil,
			[]string{"PARTNER_ADMINS/CLAIM_REJECTED"}},
		{"customer declined", change("customerDecline", models.UnderReview, models.Rejected),
			func(c *models.Claim) { c.DecisionCode = &declined },
			[]string{"PARTNER_ADMINS/CLAIM_REJECTED"}},
		{"lapse", change("lapse", models.ActionRequired, models.Rejected), nil,
			[]string{"PARTNER_ADMINS/CLAIM_REJECTED"}},
		{"withdrawal", change("withdraw", models.UnderReview, models.Withdrawn), nil,
			[]string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED"}},
		{"expiry", change("expire", models.Draft, models.Expired), nil,
			[]string{"PARTNER_ADMINS/CLAIM_STATUS_CHANGED"}},
		{"deadline warning", &models.ClaimEvent{Type: models.EventDeadlineWarning, Reason: "Answer by Friday.", ActorKind: models.ActorSystem}, nil,
			[]string{"PARTNER_ADMINS/DEADLINE_WARNING"}},
		{"a comment tells no one", &models.ClaimEvent{Type: models.EventCommentAdded}, nil, nil},
		{"an edit tells no one", &models.ClaimEvent{Type: models.EventUpdated}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := models.Claim{ID: uuid.New(), OrganizationID: uuid.New(), CustomerTenantID: uuid.New(), CustomerDomain: "northwind.example", Name: "Northwind CRM"}
			if tt.event.ToStatus != nil {
				c.Status = *tt.event.ToStatus
			}
			if tt.claim != nil {
				tt.claim(&c)
			}
			tt.event.CreatedAt = time.Now()
			ns := Notices(Cause{Event: tt.event, Claim: c})
			var got []string
			for _, n := range ns {
				got = append(got, string(n.Audience)+"/"+string(n.Kind))
				checkNotice(t, &n, &c)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("told %v, want %v", got, tt.want)
			}
		})
	}
}

func checkNotice(t *testing.T, n *models.Notification, c *models.Claim) {
	t.Helper()
	switch n.Audience {
	case models.AudiencePartnerAdmins:
		if n.AudienceID == nil || *n.AudienceID != c.OrganizationID {
			t.Errorf("%s: partner notice for %v, not the claim's organisation", n.Kind, n.AudienceID)
		}
	case models.AudienceCustomerAdmins:
		if n.AudienceID == nil || *n.AudienceID != c.CustomerTenantID {
			t.Errorf("%s: customer notice for %v, not the claim's tenant", n.Kind, n.AudienceID)
		}
	default:
		if n.AudienceID != nil {
			t.Errorf("%s: %s notice names %v", n.Kind, n.Audience, n.AudienceID)
		}
	}
	if n.ID == uuid.Nil || n.Title == "" || n.Body == "" || n.ClaimID == nil || *n.ClaimID != c.ID {
		t.Errorf("incomplete notice %+v", n)
	}
	if !strings.Contains(n.Title+n.Body, "Northwind CRM") && n.Audience != models.AudienceCustomerAdmins {
		t.Errorf("%s/%s does not name the claim: %q / %q", n.Audience, n.Kind, n.Title, n.Body)
	}
}

// TestWebhookType names the event types webhooks carry.
func TestWebhookType(t *testing.T) {
	for kind, want := range map[models.NotificationKind]string{
		models.NotifySubmitted:            "claim.submitted",
		models.NotifyStatusChanged:        "claim.status_changed",
		models.NotifyInformationRequested: "claim.information_requested",
		models.NotifyDeadlineWarning:      "claim.deadline_warning",
		models.NotifyApproved:             "claim.approved",
		models.NotifyRejected:             "claim.rejected",
	} {
		if got := WebhookType(kind); got != want {
			t.Errorf("WebhookType(%s) = %q, want %q", kind, got, want)
		}
	}
}
