package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
)

// Inbox reads a person's notifications: those of every audience they
// belong to, with whether they have read each.
type Inbox struct {
	db    *gorm.DB
	clock func() time.Time
}

// NewInbox returns the inbox over db; clock stamps reads.
func NewInbox(db *gorm.DB, clock func() time.Time) *Inbox {
	if clock == nil {
		clock = time.Now
	}
	return &Inbox{db: db, clock: clock}
}

// Item is a notification as one reader sees it.
type Item struct {
	models.Notification
	// ReadAt is when the reader marked it read; nil while unread.
	ReadAt *time.Time
	Cursor string
}

// Page is one page of an inbox, unread first, newest first within each.
type Page struct {
	Items       []Item
	HasNextPage bool
}

// inboxRow is what the inbox query selects.
type inboxRow struct {
	models.Notification
	ReadAt *time.Time
}

// List returns the first notifications after the cursor: unread first,
// then read, each newest first. Marking notifications read while paging
// moves them to the read part; a client that wants a stable walk pages
// first and marks afterwards.
func (i *Inbox) List(ctx context.Context, first int, after *string) (*Page, error) {
	id, aud, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	if first < 0 || first > relay.MaxPageSize {
		return nil, apperr.Invalidf("first", "first must be between 0 and %d.", relay.MaxPageSize)
	}
	q := inboxQuery(i.db.WithContext(ctx), id.UserID, aud)
	if after != nil {
		pos, err := decodePosition(*after)
		if err != nil {
			return nil, err
		}
		q = q.Where("(CASE WHEN r.read_at IS NULL THEN 1 ELSE 0 END < ?) OR "+
			"(CASE WHEN r.read_at IS NULL THEN 1 ELSE 0 END = ? AND (n.created_at < ? OR (n.created_at = ? AND n.id < ?)))",
			pos.unread, pos.unread, pos.at, pos.at, pos.id)
	}
	var rows []inboxRow
	err = q.Select("n.*, r.read_at").
		Order("CASE WHEN r.read_at IS NULL THEN 1 ELSE 0 END DESC, n.created_at DESC, n.id DESC").
		Limit(first + 1).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}
	page := &Page{HasNextPage: len(rows) > first}
	for _, r := range rows[:min(first, len(rows))] {
		page.Items = append(page.Items, Item{Notification: r.Notification, ReadAt: r.ReadAt, Cursor: positionOf(&r).encode()})
	}
	return page, nil
}

// UnreadCount counts the reader's unread notifications.
func (i *Inbox) UnreadCount(ctx context.Context) (int64, error) {
	id, aud, err := reader(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := inboxQuery(i.db.WithContext(ctx), id.UserID, aud).Where("r.read_at IS NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

// MaxMarked bounds the IDs one markNotificationsRead names.
const MaxMarked = 100

// MarkRead marks the reader's notifications read: those named, or all of
// them when ids is nil. IDs the reader cannot see are NOT_FOUND; marking a
// read notification again changes nothing. It returns how many were
// unread.
func (i *Inbox) MarkRead(ctx context.Context, ids []uuid.UUID, all bool) (int64, error) {
	id, aud, err := reader(ctx)
	if err != nil {
		return 0, err
	}
	if all == (len(ids) > 0) {
		return 0, apperr.Invalidf("ids", "Name the notifications to mark read, or ask for all of them; not both.")
	}
	if len(ids) > MaxMarked {
		return 0, apperr.Invalidf("ids", "Mark at most %d notifications at a time, or all of them.", MaxMarked)
	}
	var marked int64
	err = storage.InTx(ctx, i.db, func(tx *storage.Tx) error {
		unread, err := unreadAmong(inboxQuery(tx.DB, id.UserID, aud), ids, all)
		if err != nil {
			return err
		}
		marked = int64(len(unread))
		return markRead(tx, id.UserID, unread, i.clock())
	})
	return marked, err
}

// unreadAmong reads, in one statement, which of the named notifications
// (or of the whole inbox, with all) are unread; a name not in the inbox is
// NOT_FOUND.
func unreadAmong(inbox *gorm.DB, ids []uuid.UUID, all bool) ([]uuid.UUID, error) {
	var rows []struct {
		ID     uuid.UUID
		ReadAt *time.Time
	}
	q := inbox.Select("n.id AS id, r.read_at AS read_at")
	if all {
		q = q.Where("r.read_at IS NULL")
	} else {
		q = q.Where("n.id IN ?", ids)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read notifications to mark: %w", err)
	}
	var seen, unread []uuid.UUID
	for _, r := range rows {
		seen = append(seen, r.ID)
		if r.ReadAt == nil {
			unread = append(unread, r.ID)
		}
	}
	if missing := firstMissing(ids, seen); missing != uuid.Nil {
		return nil, apperr.NotFoundf("ids", "There is no notification %s in your inbox.", missing)
	}
	return unread, nil
}

func markRead(tx *storage.Tx, user string, ids []uuid.UUID, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	rows := make([]models.NotificationRead, len(ids))
	for k, id := range ids {
		rows[k] = models.NotificationRead{NotificationID: id, UserID: user, ReadAt: now}
	}
	// A concurrent mark of the same notification is no conflict.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}

func firstMissing(want, have []uuid.UUID) uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(have))
	for _, id := range have {
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			return id
		}
	}
	return uuid.Nil
}

// inboxQuery is the reader's notifications joined with their reads.
func inboxQuery(db *gorm.DB, user string, aud audiences) *gorm.DB {
	cond, args := aud.where()
	return db.Table("notifications AS n").
		Joins("LEFT JOIN notification_reads AS r ON r.notification_id = n.id AND r.user_id = ?", user).
		Where(cond, args...)
}

func reader(ctx context.Context) (*auth.Identity, audiences, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, audiences{}, err
	}
	aud := audiencesOf(id)
	if aud.none() {
		return nil, aud, errNoInbox()
	}
	return id, aud, nil
}

// position is a place in the inbox order: unread part first, then time and
// ID, newest first.
type position struct {
	unread int
	at     time.Time
	id     uuid.UUID
}

func positionOf(r *inboxRow) position {
	p := position{at: r.CreatedAt, id: r.ID}
	if r.ReadAt == nil {
		p.unread = 1
	}
	return p
}

// encode keeps the read part in the cursor's key: "u:<id>" or "r:<id>".
func (p position) encode() string {
	part := "r:"
	if p.unread == 1 {
		part = "u:"
	}
	return relay.Cursor{Time: p.at, Key: part + p.id.String()}.Encode()
}

func decodePosition(s string) (position, error) {
	c, err := relay.DecodeCursor(s, "after")
	if err != nil {
		return position{}, err
	}
	part, key, _ := strings.Cut(c.Key, ":")
	id, perr := uuid.Parse(key)
	if perr != nil || id.String() != key || (part != "u" && part != "r") || c.Time.IsZero() {
		return position{}, apperr.Invalidf("after", "%s is not a cursor of this connection; use an endCursor it returned.", apperr.Quote(s))
	}
	p := position{at: c.Time, id: id}
	if part == "u" {
		p.unread = 1
	}
	return p, nil
}
