package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/mail"
	"cpor/models"
	"cpor/storage"
)

// Channel is the PostgreSQL NOTIFY channel announcing committed
// notifications to the live feeds of every instance.
const Channel = "cpor_notifications"

// RetryWindows say how long each channel keeps trying a delivery.
type RetryWindows struct {
	Email   time.Duration
	Webhook time.Duration
}

// DefaultRetryWindows keep trying for a day, as webhook senders commonly do.
var DefaultRetryWindows = RetryWindows{Email: 24 * time.Hour, Webhook: 24 * time.Hour}

func (w RetryWindows) of(ch models.Channel) time.Duration {
	d := w.Webhook
	if ch == models.ChannelEmail {
		d = w.Email
	}
	if d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// Recorder writes notifications and their deliveries in the caller's
// transaction: the outbox.
type Recorder struct {
	windows RetryWindows
	feed    *Feed
	wake    func()
}

// OnCommit has wake called after every commit that wrote deliveries (the
// dispatcher looks at once rather than at its next interval).
func (r *Recorder) OnCommit(wake func()) { r.wake = wake }

// NewRecorder returns a recorder whose committed notifications reach feed
// (which may be nil).
func NewRecorder(windows RetryWindows, feed *Feed) *Recorder {
	return &Recorder{windows: windows, feed: feed}
}

// Record writes what the causes notify. The person who caused an event is
// not e-mailed about it; it is still in their inbox.
func (r *Recorder) Record(tx *storage.Tx, causes []Cause) error {
	var (
		ns      []models.Notification
		actorOf = map[uuid.UUID]string{}
	)
	for _, c := range causes {
		for _, n := range Notices(c) {
			actorOf[n.ID] = c.Event.ActorID
			ns = append(ns, n)
		}
	}
	return r.write(tx, ns, actorOf)
}

// Write writes notifications that no claim event causes (a webhook
// endpoint disabled), with their deliveries.
func (r *Recorder) Write(tx *storage.Tx, ns ...models.Notification) error {
	return r.write(tx, ns, nil)
}

func (r *Recorder) write(tx *storage.Tx, ns []models.Notification, actorOf map[uuid.UUID]string) error {
	if len(ns) == 0 {
		return nil
	}
	now := storage.Now()
	for i := range ns {
		if ns[i].CreatedAt.IsZero() {
			ns[i].CreatedAt = now
		}
	}
	if err := tx.Create(&ns).Error; err != nil {
		return fmt.Errorf("write notifications: %w", err)
	}
	deliveries, err := r.deliveries(tx.DB, ns, actorOf, now)
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		if err := tx.Create(&deliveries).Error; err != nil {
			return fmt.Errorf("write deliveries: %w", err)
		}
		if r.wake != nil {
			tx.AfterCommit(r.wake)
		}
	}
	r.announce(tx, ns)
	return nil
}

// deliveries are the e-mails to the audiences' members who want them now
// and the webhook calls to the endpoints that subscribed.
func (r *Recorder) deliveries(db *gorm.DB, ns []models.Notification, actorOf map[uuid.UUID]string, now time.Time) ([]models.Delivery, error) {
	receivers, err := receiversOf(db, ns)
	if err != nil {
		return nil, err
	}
	var out []models.Delivery
	add := func(n *models.Notification, ch models.Channel, recipient, address, payload string) {
		out = append(out, models.Delivery{
			ID: uuid.New(), Channel: ch, NotificationID: &n.ID, Recipient: recipient, Address: address,
			Payload: payload, Status: models.DeliveryPending, NextAttemptAt: now,
			GiveUpAt: now.Add(r.windows.of(ch)), CreatedAt: now,
		})
	}
	for i := range ns {
		n := &ns[i]
		var body string
		for _, rc := range receivers {
			switch {
			case rc.Channel == models.ChannelEmail && rc.Recipient != actorOf[n.ID] && rc.person().includes(n):
				add(n, models.ChannelEmail, rc.Recipient, rc.Address, mail.EncodeRecipient(rc.Name))
			case rc.Channel == models.ChannelWebhook && webhookNotice(n) && rc.receives(n):
				if body == "" {
					if body, err = WebhookBody(n); err != nil {
						return nil, err
					}
				}
				add(n, models.ChannelWebhook, rc.Recipient, WebhookType(n.Kind), body)
			}
		}
	}
	return out, nil
}

// receiver is a person who wants e-mail at once, or a webhook endpoint.
type receiver struct {
	Channel        models.Channel
	Recipient      string // user or endpoint ID
	Address        string // the person's e-mail address
	Name           string
	OrganizationID *uuid.UUID
	TenantID       *uuid.UUID
	Reviewer       bool
	Operator       bool
	EventTypes     string // the endpoint's kinds
}

func (rc *receiver) person() audiences {
	a := audiences{reviewer: rc.Reviewer, operator: rc.Operator}
	if rc.OrganizationID != nil {
		a.organization = *rc.OrganizationID
	}
	if rc.TenantID != nil {
		a.tenant = *rc.TenantID
	}
	return a
}

// receives reports whether the endpoint wants n: its own organisation's
// claim (or any, for an operator's) and a kind it chose.
func (rc *receiver) receives(n *models.Notification) bool {
	if rc.OrganizationID != nil && (n.AudienceID == nil || *rc.OrganizationID != *n.AudienceID) {
		return false
	}
	return strings.Contains(rc.EventTypes, ","+string(n.Kind)+",")
}

// receiversOf reads, in one statement, the people of ns's audiences who
// want e-mail at once and the enabled webhook endpoints of the
// organisations ns concern, with the operators' endpoints for every claim.
func receiversOf(db *gorm.DB, ns []models.Notification) ([]receiver, error) {
	var (
		parts []string
		args  []any
	)
	if cond, condArgs := audienceCondition(ns); cond != "" {
		parts = append(parts, "SELECT 'EMAIL' AS channel, user_id AS recipient, email AS address, name, organization_id, tenant_id, reviewer, operator, '' AS event_types"+
			" FROM notification_recipients WHERE preference = ? AND email <> '' AND "+cond)
		args = append(append(args, models.PreferEmailImmediate), condArgs...)
	}
	if slices.ContainsFunc(ns, func(n models.Notification) bool { return webhookNotice(&n) }) {
		parts = append(parts, "SELECT 'WEBHOOK', CAST(id AS TEXT), '', '', organization_id, NULL, FALSE, FALSE, event_types"+
			" FROM webhook_endpoints WHERE disabled_at IS NULL AND (organization_id IS NULL OR organization_id IN ?)")
		args = append(args, audienceIDs(ns, models.AudiencePartnerAdmins))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	var out []receiver
	if err := db.Raw(strings.Join(parts, " UNION ALL ")+" ORDER BY 1, 2", args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("read notification receivers: %w", err)
	}
	return out, nil
}

// audienceCondition is the SQL condition (on notification_recipients) of
// the members of ns's audiences.
func audienceCondition(ns []models.Notification) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if orgs := audienceIDs(ns, models.AudiencePartnerAdmins); len(orgs) > 0 {
		conds, args = append(conds, "organization_id IN ?"), append(args, orgs)
	}
	if tenants := audienceIDs(ns, models.AudienceCustomerAdmins); len(tenants) > 0 {
		conds, args = append(conds, "tenant_id IN ?"), append(args, tenants)
	}
	if hasAudience(ns, models.AudienceReviewers) {
		conds = append(conds, "reviewer")
	}
	if hasAudience(ns, models.AudienceOperators) {
		conds = append(conds, "operator")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// webhookNotice reports whether webhooks hear of n: what a partner
// organisation is told of its claims.
func webhookNotice(n *models.Notification) bool {
	return n.Audience == models.AudiencePartnerAdmins && n.ClaimID != nil && slices.Contains(models.WebhookKinds, n.Kind)
}

func audienceIDs(ns []models.Notification, a models.Audience) []uuid.UUID {
	var ids []uuid.UUID
	for _, n := range ns {
		if n.Audience == a && n.AudienceID != nil && !slices.Contains(ids, *n.AudienceID) {
			ids = append(ids, *n.AudienceID)
		}
	}
	return ids
}

func hasAudience(ns []models.Notification, a models.Audience) bool {
	return slices.ContainsFunc(ns, func(n models.Notification) bool { return n.Audience == a })
}

// announce tells the live feeds of the notifications once they commit: on
// PostgreSQL every instance hears it by NOTIFY (sent only if the
// transaction commits); on SQLite, a single process, the feed is told
// directly.
func (r *Recorder) announce(tx *storage.Tx, ns []models.Notification) {
	if r.feed == nil {
		return
	}
	if storage.DialectOf(tx.DB) == storage.Postgres {
		// A NOTIFY payload holds under 8,000 bytes: 150 IDs at a time.
		for chunk := range slices.Chunk(ns, 150) {
			ids := make([]string, len(chunk))
			for i, n := range chunk {
				ids[i] = n.ID.String()
			}
			tx.Notify(Channel, strings.Join(ids, ","))
		}
		return
	}
	committed := slices.Clone(ns)
	tx.AfterCommit(func() { r.feed.Publish(committed) })
}
