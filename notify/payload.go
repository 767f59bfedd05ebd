package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"cpor/models"
)

// WebhookType is the event type a webhook delivery carries ("type" in the
// body): CLAIM_APPROVED is "claim.approved", INFORMATION_REQUESTED is
// "claim.information_requested".
func WebhookType(k models.NotificationKind) string {
	name := strings.ToLower(string(k))
	name = strings.TrimPrefix(name, "claim_")
	return "claim." + name
}

// WebhookPayload is the JSON body of a webhook delivery, in the shape the
// Standard Webhooks specification suggests: a type, a timestamp and the
// data. It carries only what the claim's own organisation sees of it.
type WebhookPayload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what happened to which claim.
type WebhookData struct {
	NotificationID uuid.UUID               `json:"notificationId"`
	Kind           models.NotificationKind `json:"kind"`
	Title          string                  `json:"title"`
	Body           string                  `json:"body"`
	NextStep       string                  `json:"nextStep,omitempty"`
	Claim          WebhookClaim            `json:"claim"`
}

// WebhookClaim identifies the claim; the receiver reads more through the
// API with its own credentials.
type WebhookClaim struct {
	ID             uuid.UUID          `json:"id"`
	Name           string             `json:"name"`
	Status         models.ClaimStatus `json:"status"`
	OrganizationID uuid.UUID          `json:"organizationId"`
}

// WebhookBody renders the body of n's webhook deliveries once, so that
// every attempt sends the same bytes.
func WebhookBody(n *models.Notification) (string, error) {
	if n.ClaimID == nil || n.AudienceID == nil {
		return "", fmt.Errorf("webhook body: notification %s has no claim or organisation", n.ID)
	}
	b, err := json.Marshal(WebhookPayload{
		Type: WebhookType(n.Kind), Timestamp: n.CreatedAt.UTC(),
		Data: WebhookData{
			NotificationID: n.ID, Kind: n.Kind, Title: n.Title, Body: n.Body, NextStep: n.NextStep,
			Claim: WebhookClaim{ID: *n.ClaimID, Name: n.ClaimName, Status: n.ClaimStatus, OrganizationID: *n.AudienceID},
		},
	})
	if err != nil {
		return "", fmt.Errorf("webhook body: %w", err)
	}
	return string(b), nil
}
