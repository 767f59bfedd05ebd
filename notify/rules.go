// Package notify tells people what happens to claims when no app is open.
// A claim event that matters to someone becomes notifications, one per
// audience (the partner admins of the claim's organisation, the reviewers,
// the customer admins of its tenant), written with their outgoing
// deliveries (e-mail, webhooks) in the transaction of the event itself: the
// outbox that package outbox dispatches. The inbox reads them back per
// viewer, with who has read what.
package notify

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"cpor/models"
)

// Cause is a claim event that may notify, with the claim as the event left
// it.
type Cause struct {
	Event *models.ClaimEvent
	Claim models.Claim
}

// The workflow's event names the rules tell apart.
const (
	eventRequestInformation = "requestInformation"
	eventRespond            = "respond"
)

// Notices are the notifications a cause makes, one per audience told:
//
//   - the partner admins of the claim's organisation on every status change,
//     information request, deadline warning and decision;
//   - the reviewers on a new submission and on a partner's answer;
//   - the customer admins of the claim's tenant on a submission and on an
//     approval.
func Notices(c Cause) []models.Notification {
	ev, claim := c.Event, &c.Claim
	var out []models.Notification
	add := func(a models.Audience, kind models.NotificationKind, title, body, next string) {
		n := models.Notification{
			ID: uuid.New(), Audience: a, Kind: kind,
			ClaimID: &claim.ID, ClaimName: claim.Name, ClaimStatus: claim.Status,
			Title: title, Body: sentence(body), NextStep: next, CreatedAt: ev.CreatedAt,
		}
		switch a {
		case models.AudiencePartnerAdmins:
			n.AudienceID = &claim.OrganizationID
		case models.AudienceCustomerAdmins:
			n.AudienceID = &claim.CustomerTenantID
		}
		out = append(out, n)
	}
	label := Label(claim)
	switch {
	case ev.Type == models.EventDeadlineWarning:
		add(models.AudiencePartnerAdmins, models.NotifyDeadlineWarning,
			"A deadline is near: "+label, ev.Reason, "Open the claim and act before the deadline.")
	case !isStatusChange(ev):
	case *ev.ToStatus == models.Submitted:
		add(models.AudiencePartnerAdmins, models.NotifySubmitted, "Claim submitted: "+label,
			fmt.Sprintf("%s submitted %s for review.", actor(ev), label), "Nothing to do: a reviewer will pick it up.")
		add(models.AudienceReviewers, models.NotifySubmitted, "New claim to review: "+label,
			fmt.Sprintf("A partner submitted %s for %s.", label, claim.CustomerDomain), "Start the review.")
		add(models.AudienceCustomerAdmins, models.NotifySubmitted, "A partner asks to be recorded on your tenant",
			fmt.Sprintf("A Microsoft partner asked to be recorded as partner of record for your tenant (%s): %s.", claim.CustomerDomain, label),
			"Nothing to do if you worked with this partner. If you did not, decline the request in the app.")
	case ev.Event == eventRequestInformation:
		add(models.AudiencePartnerAdmins, models.NotifyInformationRequested, "Information requested: "+label,
			"A reviewer asked: "+ev.Reason, answerBy(claim.ResponseDueAt))
	case ev.Event == eventRespond:
		add(models.AudiencePartnerAdmins, models.NotifyStatusChanged, "Answer sent: "+label,
			fmt.Sprintf("%s answered the reviewer; the claim is %s again.", actor(ev), words(claim.Status)), "")
		add(models.AudienceReviewers, models.NotifyPartnerResponded, "The partner answered: "+label,
			answer(ev, label), "Continue the review.")
	case *ev.ToStatus == models.Approved:
		add(models.AudiencePartnerAdmins, models.NotifyApproved, "Claim approved: "+label,
			label+" was approved: your organisation is the partner of record.", "")
		add(models.AudienceCustomerAdmins, models.NotifyApproved, "A partner of record was recorded on your tenant",
			fmt.Sprintf("Microsoft recorded a partner of record for your tenant (%s): %s.", claim.CustomerDomain, label),
			"If you do not recognise this partner, end the association in the app.")
	case *ev.ToStatus == models.Rejected:
		add(models.AudiencePartnerAdmins, models.NotifyRejected, "Claim rejected: "+label,
			rejection(claim, ev), "Read the reason; you may reclaim with better proof.")
	default:
		add(models.AudiencePartnerAdmins, models.NotifyStatusChanged, "Claim "+words(claim.Status)+": "+label,
			fmt.Sprintf("%s moved from %s to %s.", label, words(*ev.FromStatus), words(*ev.ToStatus)), "")
	}
	return out
}

// sentence starts s with a capital: a body may open with a claim's label.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func isStatusChange(ev *models.ClaimEvent) bool {
	return ev.Type == models.EventStatusChanged && ev.FromStatus != nil && ev.ToStatus != nil &&
		(*ev.FromStatus != *ev.ToStatus || ev.Event == eventRequestInformation)
}

// Label names a claim in a notification: its partner-given name, or its ID.
func Label(c *models.Claim) string {
	if name := strings.TrimSpace(c.Name); name != "" {
		return fmt.Sprintf("%q", name)
	}
	return "claim " + c.ID.String()[:8]
}

func actor(ev *models.ClaimEvent) string {
	if ev.ActorKind == models.ActorSystem || ev.ActorName == "" {
		return "The service"
	}
	return ev.ActorName
}

// words writes a status for reading: UNDER_REVIEW is "under review".
func words(s models.ClaimStatus) string {
	return strings.ToLower(strings.ReplaceAll(string(s), "_", " "))
}

func answerBy(due *time.Time) string {
	if due == nil {
		return "Answer in the claim's thread."
	}
	return "Answer in the claim's thread by " + due.UTC().Format("Monday 2 January 2006, 15:04 MST") + ", or the claim is rejected."
}

func answer(ev *models.ClaimEvent, label string) string {
	if ev.Reason == "" {
		return actor(ev) + " answered the information request on " + label + "."
	}
	return actor(ev) + " answered: " + ev.Reason
}

func rejection(c *models.Claim, ev *models.ClaimEvent) string {
	why := ev.Reason
	if c.DecisionCode != nil {
		switch *c.DecisionCode {
		case models.NoPartnerResponse:
			why = "no answer came before the deadline"
		case models.CustomerDeclined:
			why = "the customer declined the request: " + ev.Reason
		}
	}
	if why == "" {
		return Label(c) + " was rejected."
	}
	return Label(c) + " was rejected: " + why
}
