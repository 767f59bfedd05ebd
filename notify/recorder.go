package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

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
}

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
	}
	return r.announce(tx, ns)
}

// deliveries are the e-mails to the audiences' members who want them now
// and the webhook calls to the endpoints that subscribed.
func (r *Recorder) deliveries(db *gorm.DB, ns []models.Notification, actorOf map[uuid.UUID]string, now time.Time) ([]models.Delivery, error) {
	people, err := emailRecipients(db, ns)
	if err != nil {
		return nil, err
	}
	endpoints, err := subscribedEndpoints(db, ns)
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
		for _, p := range people {
			if p.UserID != actorOf[n.ID] && inAudience(&p, n) {
				add(n, models.ChannelEmail, p.UserID, p.Email, recipientPayload(p.Name))
			}
		}
		if !webhookNotice(n) {
			continue
		}
		body, err := WebhookBody(n)
		if err != nil {
			return nil, err
		}
		for _, e := range endpoints {
			if receives(&e, n) {
				add(n, models.ChannelWebhook, e.ID.String(), WebhookType(n.Kind), body)
			}
		}
	}
	return out, nil
}

// emailRecipients reads, in one statement, the people who want e-mail at
// once and belong to an audience of ns.
func emailRecipients(db *gorm.DB, ns []models.Notification) ([]models.NotificationRecipient, error) {
	var (
		conds []string
		args  []any
	)
	orgs, tenants := audienceIDs(ns, models.AudiencePartnerAdmins), audienceIDs(ns, models.AudienceCustomerAdmins)
	if len(orgs) > 0 {
		conds, args = append(conds, "organization_id IN ?"), append(args, orgs)
	}
	if len(tenants) > 0 {
		conds, args = append(conds, "tenant_id IN ?"), append(args, tenants)
	}
	if hasAudience(ns, models.AudienceReviewers) {
		conds = append(conds, "reviewer")
	}
	if hasAudience(ns, models.AudienceOperators) {
		conds = append(conds, "operator")
	}
	if len(conds) == 0 {
		return nil, nil
	}
	var people []models.NotificationRecipient
	err := db.Where("preference = ? AND email <> ''", models.PreferEmailImmediate).
		Where("("+strings.Join(conds, " OR ")+")", args...).Order("user_id").Find(&people).Error
	if err != nil {
		return nil, fmt.Errorf("read e-mail recipients: %w", err)
	}
	return people, nil
}

// subscribedEndpoints reads the enabled endpoints of the organisations ns
// concern and the operators' endpoints for every claim.
func subscribedEndpoints(db *gorm.DB, ns []models.Notification) ([]models.WebhookEndpoint, error) {
	if !slices.ContainsFunc(ns, func(n models.Notification) bool { return webhookNotice(&n) }) {
		return nil, nil
	}
	var eps []models.WebhookEndpoint
	err := db.Select("id", "organization_id", "event_types").
		Where("disabled_at IS NULL AND (organization_id IS NULL OR organization_id IN ?)", audienceIDs(ns, models.AudiencePartnerAdmins)).
		Order("id").Find(&eps).Error
	if err != nil {
		return nil, fmt.Errorf("read webhook endpoints: %w", err)
	}
	return eps, nil
}

// inAudience reports whether the person belongs to the notification's
// audience, as their token last said.
func inAudience(p *models.NotificationRecipient, n *models.Notification) bool {
	switch n.Audience {
	case models.AudiencePartnerAdmins:
		return p.OrganizationID != nil && n.AudienceID != nil && *p.OrganizationID == *n.AudienceID
	case models.AudienceCustomerAdmins:
		return p.TenantID != nil && n.AudienceID != nil && *p.TenantID == *n.AudienceID
	case models.AudienceReviewers:
		return p.Reviewer
	case models.AudienceOperators:
		return p.Operator
	}
	return false
}

// webhookNotice reports whether webhooks hear of n: what a partner
// organisation is told of its claims.
func webhookNotice(n *models.Notification) bool {
	return n.Audience == models.AudiencePartnerAdmins && n.ClaimID != nil && slices.Contains(models.WebhookKinds, n.Kind)
}

// receives reports whether the endpoint wants n: its own organisation's
// claim (or any, for an operator's) and a kind it chose.
func receives(e *models.WebhookEndpoint, n *models.Notification) bool {
	if e.OrganizationID != nil && (n.AudienceID == nil || *e.OrganizationID != *n.AudienceID) {
		return false
	}
	return strings.Contains(e.EventTypes, ","+string(n.Kind)+",")
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

// recipientPayload is what an e-mail delivery carries besides its
// notification: the name to greet.
func recipientPayload(name string) string {
	b, _ := json.Marshal(struct {
		Name string `json:"name"`
	}{name})
	return string(b)
}

// announce tells the live feeds of the notifications once they commit: on
// PostgreSQL every instance hears it by NOTIFY (sent only if the
// transaction commits); on SQLite, a single process, the feed is told
// directly.
func (r *Recorder) announce(tx *storage.Tx, ns []models.Notification) error {
	if r.feed == nil {
		return nil
	}
	if storage.DialectOf(tx.DB) == storage.Postgres {
		// A NOTIFY payload holds under 8,000 bytes: 150 IDs at a time.
		for chunk := range slices.Chunk(ns, 150) {
			ids := make([]string, len(chunk))
			for i, n := range chunk {
				ids[i] = n.ID.String()
			}
			if err := tx.Exec("SELECT pg_notify(?, ?)", Channel, strings.Join(ids, ",")).Error; err != nil {
				return fmt.Errorf("announce notifications: %w", err)
			}
		}
		return nil
	}
	committed := slices.Clone(ns)
	tx.AfterCommit(func() { r.feed.Publish(committed) })
	return nil
}
