package notify

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/models"
	"cpor/storage"
)

// Feed hands committed notifications to the live subscriptions of the
// people they are for (notificationAdded). It is a courtesy on top of the
// inbox, which is the truth: a subscriber that falls behind by more than
// its buffer is ended, and a client that reconnects reads its inbox.
type Feed struct {
	db  *gorm.DB
	log *slog.Logger

	mu   sync.Mutex
	subs map[*subscription]struct{}

	listening sync.Once
	ready     chan struct{}
}

// subscriptionBuffer is how many notifications a subscriber may be behind.
const subscriptionBuffer = 64

type subscription struct {
	audiences audiences
	ch        chan *models.Notification
	done      bool
	// since is when it began: what was written well before is in the
	// inbox, not news (an instance catching up on a backlog of NOTIFYs
	// must not flood a new subscriber with it).
	since time.Time
}

// lateness is how long before a subscription began a notification may
// have been written and still be news to it: its transaction may commit a
// moment after the subscription starts.
const lateness = 5 * time.Second

// NewFeed returns a feed that reads announced notifications from db.
func NewFeed(db *gorm.DB, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{db: db, log: log.With("component", "notification-feed"), subs: map[*subscription]struct{}{}, ready: make(chan struct{})}
}

// Subscribe returns the notifications committed from now on for the
// identity's audiences. The channel closes when ctx ends, when the token
// expires, or when the subscriber falls too far behind.
func (f *Feed) Subscribe(ctx context.Context, id *auth.Identity) (<-chan *models.Notification, error) {
	aud := audiencesOf(id)
	if aud.none() {
		return nil, errNoInbox()
	}
	s := &subscription{audiences: aud, ch: make(chan *models.Notification, subscriptionBuffer), since: time.Now()}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	go func() {
		var expiry <-chan time.Time
		if !id.ExpiresAt.IsZero() {
			t := time.NewTimer(time.Until(id.ExpiresAt))
			defer t.Stop()
			expiry = t.C
		}
		select {
		case <-ctx.Done():
		case <-expiry:
		}
		f.end(s)
	}()
	return s.ch, nil
}

func (f *Feed) end(s *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !s.done {
		s.done = true
		delete(f.subs, s)
		close(s.ch)
	}
}

// Publish offers committed notifications to the subscribers they are for.
func (f *Feed) Publish(ns []models.Notification) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range ns {
		n := &ns[i]
		for s := range f.subs {
			if !s.audiences.includes(n) || n.CreatedAt.Before(s.since.Add(-lateness)) {
				continue
			}
			select {
			case s.ch <- n:
			default:
				f.log.Warn("notification subscriber too slow; ending it", "buffer", subscriptionBuffer)
				s.done = true
				delete(f.subs, s)
				close(s.ch)
			}
		}
	}
}

// Subscribers counts the live subscriptions.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Listening is closed once Listen first listens: notifications committed
// after it reach this instance's subscribers.
func (f *Feed) Listening() <-chan struct{} { return f.ready }

func (f *Feed) subscribed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs) > 0
}

// announced reads the notifications a NOTIFY named and publishes them;
// with nobody subscribed it reads nothing.
func (f *Feed) announced(ctx context.Context, payload string) {
	if !f.subscribed() {
		return
	}
	var ids []uuid.UUID
	for _, s := range strings.Split(payload, ",") {
		if id, err := uuid.Parse(s); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	var ns []models.Notification
	if err := f.db.WithContext(ctx).Where("id IN ?", ids).Order("created_at, id").Find(&ns).Error; err != nil {
		f.log.ErrorContext(ctx, "read announced notifications", "error", err)
		return
	}
	f.Publish(ns)
}

// ListenerApplicationName marks the listening connection in
// pg_stat_activity.
const ListenerApplicationName = "cpor-notification-listener"

// Listen keeps a PostgreSQL connection listening for committed
// notifications of every instance, reconnecting with backoff, until ctx
// ends. Notifications committed while it was disconnected are not replayed
// live; they are in the inbox.
func (f *Feed) Listen(ctx context.Context, databaseURL string) {
	storage.Listener{
		DatabaseURL: databaseURL, Channel: Channel, ApplicationName: ListenerApplicationName, Log: f.log,
		Connected: func() { f.listening.Do(func() { close(f.ready) }) },
		Notified:  f.announced,
	}.Run(ctx)
}
