package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
)

// Directory knows the people the service may e-mail: who they are and
// which audiences they belong to, as their tokens last said, and how they
// want to hear of notifications. It learns them as they use the API, in
// the background, so that no request waits for it.
type Directory struct {
	db    *gorm.DB
	clock func() time.Time
	log   *slog.Logger

	queue chan models.NotificationRecipient
	mu    sync.Mutex
	known map[string]string // user ID → fingerprint of what was stored
}

// Bounds of the learning: people waiting to be written, and remembered as
// written (beyond which the memory starts again, costing one more write
// per person).
const (
	learnQueue = 1024
	learnKnown = 100_000
	learnBatch = 100
)

// NewDirectory returns the directory over db; clock stamps preference
// changes (default storage.Now).
func NewDirectory(db *gorm.DB, clock func() time.Time, log *slog.Logger) *Directory {
	if clock == nil {
		clock = storage.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{
		db: db, clock: clock, log: log.With("component", "notification-directory"),
		queue: make(chan models.NotificationRecipient, learnQueue), known: map[string]string{},
	}
}

// recipientOf is the person as the identity describes them.
func recipientOf(id *auth.Identity) models.NotificationRecipient {
	aud := audiencesOf(id)
	r := models.NotificationRecipient{
		UserID: id.UserID, Email: validEmail(id.Email), Name: storageText(id.Name),
		Reviewer: aud.reviewer, Operator: aud.operator, Preference: models.PreferEmailImmediate,
	}
	if aud.organization != uuid.Nil {
		r.OrganizationID = &aud.organization
	}
	if aud.tenant != uuid.Nil {
		r.TenantID = &aud.tenant
	}
	return r
}

func fingerprint(r *models.NotificationRecipient) string {
	return fmt.Sprint(r.Email, "|", r.Name, "|", r.OrganizationID, "|", r.TenantID, "|", r.Reviewer, "|", r.Operator)
}

// Saw notes a caller; a person not yet known, or whose token now says
// something new, is written soon after. It never blocks: when the queue is
// full the person is learnt on a later request.
func (d *Directory) Saw(id *auth.Identity) {
	if id == nil || id.UserID == "" || audiencesOf(id).none() {
		return
	}
	r := recipientOf(id)
	fp := fingerprint(&r)
	d.mu.Lock()
	same := d.known[id.UserID] == fp
	d.mu.Unlock()
	if same {
		return
	}
	select {
	case d.queue <- r:
	default:
	}
}

// Run writes the people Saw queued until ctx ends.
func (d *Directory) Run(ctx context.Context) {
	for {
		var batch []models.NotificationRecipient
		select {
		case <-ctx.Done():
			return
		case r := <-d.queue:
			batch = append(batch, r)
		}
	more:
		for len(batch) < learnBatch {
			select {
			case r := <-d.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		if err := d.remember(ctx, batch); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "remember notification recipients", "error", err, "people", len(batch))
		}
	}
}

// Remember writes the person the identity describes now, keeping their
// preference.
func (d *Directory) Remember(ctx context.Context, id *auth.Identity) error {
	return d.remember(ctx, []models.NotificationRecipient{recipientOf(id)})
}

func (d *Directory) remember(ctx context.Context, people []models.NotificationRecipient) error {
	byUser := map[string]models.NotificationRecipient{}
	for _, p := range people {
		p.UpdatedAt = d.clock()
		byUser[p.UserID] = p
	}
	rows := make([]models.NotificationRecipient, 0, len(byUser))
	for _, p := range byUser {
		rows = append(rows, p)
	}
	err := d.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"email", "name", "organization_id", "tenant_id", "reviewer", "operator", "updated_at"}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("remember recipients: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.known)+len(rows) > learnKnown {
		d.known = map[string]string{}
	}
	for i := range rows {
		d.known[rows[i].UserID] = fingerprint(&rows[i])
	}
	return nil
}

// Preference is how the caller hears of notifications beyond the inbox.
func (d *Directory) Preference(ctx context.Context) (models.NotificationPreference, error) {
	id, _, err := reader(ctx)
	if err != nil {
		return "", err
	}
	var r models.NotificationRecipient
	err = d.db.WithContext(ctx).Select("preference").Where("user_id = ?", id.UserID).Take(&r).Error
	switch {
	case storage.IsNotFound(err):
		return models.PreferEmailImmediate, nil
	case err != nil:
		return "", fmt.Errorf("read notification preference: %w", err)
	}
	return r.Preference, nil
}

// SetPreference records the caller's choice. Choosing the daily digest
// starts it from now: the first digest holds what comes after.
func (d *Directory) SetPreference(ctx context.Context, p models.NotificationPreference) (models.NotificationPreference, error) {
	id, _, err := reader(ctx)
	if err != nil {
		return "", err
	}
	if !models.Contains(models.NotificationPreferences, p) {
		return "", apperr.Invalidf("preference", "Choose IN_APP_ONLY, EMAIL_IMMEDIATE or DAILY_DIGEST.")
	}
	r := recipientOf(id)
	now := d.clock()
	r.Preference, r.UpdatedAt, r.DigestThrough = p, now, &now
	updates := []string{"email", "name", "organization_id", "tenant_id", "reviewer", "operator", "updated_at", "preference"}
	set := clause.AssignmentColumns(updates)
	// The digest's start moves only when the choice changes to the digest.
	set = append(set, clause.Assignment{Column: clause.Column{Name: "digest_through"}, Value: gorm.Expr(
		"CASE WHEN notification_recipients.preference = ? THEN notification_recipients.digest_through ELSE ? END",
		models.PreferDailyDigest, now)})
	err = d.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}}, DoUpdates: set}).Create(&r).Error
	if err != nil {
		return "", fmt.Errorf("save notification preference: %w", err)
	}
	return p, nil
}

// validEmail keeps an address the token gave if it looks like one; mail is
// never sent to anything else.
func validEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;\"\x00") {
		return ""
	}
	return s
}

// storageText drops NUL bytes, which PostgreSQL refuses in text.
func storageText(s string) string { return strings.ReplaceAll(s, "\x00", "") }
