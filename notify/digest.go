package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/mail"
	"cpor/models"
	"cpor/scheduler"
	"cpor/storage"
)

// DigestJob is the scheduler's kind of the daily digest run: one job for
// the whole service, which moves itself to the next day when done.
const DigestJob = "notify.digest"

// digestSubject is the digest job's subject: there is one.
var digestSubject = uuid.MustParse("d19e5700-0000-4000-8000-000000000001")

// Digests send, once a day at a fixed hour, one e-mail per person who
// chose the daily digest, with what reached their inbox since the last one
// and is still unread.
type Digests struct {
	hour   int
	window time.Duration
}

// Bounds of one digest run: people per pass (the job comes back at once
// for the rest) and notifications per e-mail.
const (
	digestPeople = 200
	digestItems  = 50
)

// NewDigests sends digests at hour (0–23, UTC); each e-mail is retried for
// window.
func NewDigests(hour int, window time.Duration) (*Digests, error) {
	if hour < 0 || hour > 23 {
		return nil, fmt.Errorf("digest hour %d is not between 0 and 23", hour)
	}
	if window <= 0 {
		window = DefaultRetryWindows.Email
	}
	return &Digests{hour: hour, window: window}, nil
}

// Ensure schedules the digest job unless it is already pending.
func (g *Digests) Ensure(ctx context.Context, db *gorm.DB, now time.Time) error {
	return storage.InTx(ctx, db, func(tx *storage.Tx) error {
		return scheduler.Ensure(tx, DigestJob, digestSubject, g.nextRun(now))
	})
}

// Handlers is the digest job's handler for the scheduler.
func (g *Digests) Handlers() map[string]scheduler.Handler {
	return map[string]scheduler.Handler{DigestJob: g.run}
}

// nextRun is the first digest hour after now.
func (g *Digests) nextRun(now time.Time) time.Time {
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), g.hour, 0, 0, 0, time.UTC)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// run sends the digests due: to each person on the digest whose last one
// is at least 20 hours old (so a run repeated the same day sends nothing
// twice), covering what came since.
func (g *Digests) run(ctx context.Context, tx *storage.Tx, _ scheduler.Job, now time.Time) (scheduler.Outcome, error) {
	var people []models.NotificationRecipient
	err := tx.Where("preference = ? AND email <> '' AND (digest_through IS NULL OR digest_through <= ?)",
		models.PreferDailyDigest, now.Add(-20*time.Hour)).Order("user_id").Limit(digestPeople).Find(&people).Error
	if err != nil {
		return scheduler.Outcome{}, fmt.Errorf("read digest recipients: %w", err)
	}
	var deliveries []models.Delivery
	for i := range people {
		d, ok, err := g.digestOf(tx, &people[i], now)
		if err != nil {
			return scheduler.Outcome{}, err
		}
		if ok {
			deliveries = append(deliveries, d)
		}
	}
	if len(deliveries) > 0 {
		if err := tx.Create(&deliveries).Error; err != nil {
			return scheduler.Outcome{}, fmt.Errorf("write digests: %w", err)
		}
	}
	if len(people) > 0 {
		users := make([]string, len(people))
		for i, p := range people {
			users[i] = p.UserID
		}
		if err := tx.Model(&models.NotificationRecipient{}).Where("user_id IN ?", users).Update("digest_through", now).Error; err != nil {
			return scheduler.Outcome{}, fmt.Errorf("advance digests: %w", err)
		}
	}
	if len(people) == digestPeople {
		return scheduler.Reschedule(now.Add(time.Second)), nil
	}
	return scheduler.Reschedule(g.nextRun(now)), nil
}

// digestOf is the person's digest e-mail, if anything unread came since
// their last one (or within the last day, for their first).
func (g *Digests) digestOf(tx *storage.Tx, p *models.NotificationRecipient, now time.Time) (models.Delivery, bool, error) {
	aud := audiences{reviewer: p.Reviewer, operator: p.Operator}
	if p.OrganizationID != nil {
		aud.organization = *p.OrganizationID
	}
	if p.TenantID != nil {
		aud.tenant = *p.TenantID
	}
	if aud.none() {
		return models.Delivery{}, false, nil
	}
	from := now.Add(-24 * time.Hour)
	if p.DigestThrough != nil {
		from = *p.DigestThrough
	}
	var ns []models.Notification
	err := inboxQuery(tx.DB, p.UserID, aud).Select("n.*").
		Where("r.read_at IS NULL AND n.created_at >= ? AND n.created_at < ?", from, now).
		Order("n.created_at DESC, n.id DESC").Limit(digestItems).Scan(&ns).Error
	if err != nil {
		return models.Delivery{}, false, fmt.Errorf("read digest of %s: %w", p.UserID, err)
	}
	if len(ns) == 0 {
		return models.Delivery{}, false, nil
	}
	payload, err := mail.EncodeDigest(mail.Digest{Name: p.Name, Notifications: ns})
	if err != nil {
		return models.Delivery{}, false, err
	}
	return models.Delivery{
		ID: uuid.New(), Channel: models.ChannelEmail, Recipient: p.UserID, Address: p.Email,
		Payload: payload, Status: models.DeliveryPending, NextAttemptAt: now,
		GiveUpAt: now.Add(g.window), CreatedAt: now,
	}, true, nil
}
