// Package live delivers committed claim events to subscribers. The
// claim_events table is the truth: the hub follows it by sequence number,
// woken by in-process commits and, on PostgreSQL, by LISTEN/NOTIFY from
// every instance, so an event is delivered only after it commits, to every
// subscriber, once and in order, whichever instance wrote it.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/loaders"
	"cpor/models"
)

// Kind is what a subscription follows.
type Kind int

const (
	StatusChanges Kind = iota
	Comments
)

// Delivery is one committed event with what subscribers need, loaded once
// and shared by all of them.
type Delivery struct {
	Event   *models.ClaimEvent
	Claim   *models.Claim
	Comment *models.Comment
	// Loaders resolve the claim's relations once for every subscriber.
	Loaders *loaders.Loaders

	once    sync.Once
	payload any

	renderMu sync.Mutex
	rendered map[string]*rendering
}

// rendering is one key's bytes of a delivery; its lock makes later
// subscribers of the key wait for the first one's rendering.
type rendering struct {
	mu    sync.Mutex
	bytes []byte
}

// Rendered returns the bytes render makes of the delivery for key (an
// operation's shape and the viewer's access), rendering once per key for
// all subscribers that share it; different keys render in parallel. A nil
// rendering is not kept: the next caller of the key renders again.
func (d *Delivery) Rendered(key string, render func() []byte) []byte {
	d.renderMu.Lock()
	r, ok := d.rendered[key]
	if !ok {
		if d.rendered == nil {
			d.rendered = map[string]*rendering{}
		}
		r = &rendering{}
		d.rendered[key] = r
	}
	d.renderMu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bytes == nil {
		r.bytes = render()
	}
	return r.bytes
}

// Shared returns what build makes of the delivery, building it once for
// all subscribers.
func (d *Delivery) Shared(build func(*Delivery) any) any {
	d.once.Do(func() { d.payload = build(d) })
	return d.payload
}

func (d *Delivery) kind() (Kind, bool) {
	switch {
	case d.Event.Type == models.EventStatusChanged && *d.Event.FromStatus != *d.Event.ToStatus:
		// An information request fires an event that keeps the state; it
		// shows as its comments, not as a status change.
		return StatusChanges, true
	case d.Event.Type == models.EventCommentAdded && d.Comment != nil:
		return Comments, true
	}
	return 0, false
}

// Filter says which events a subscriber receives.
type Filter struct {
	Identity *auth.Identity
	Kind     Kind
	// ClaimID limits the subscription to one claim; nil follows every claim
	// the identity may read (status changes only).
	ClaimID *uuid.UUID
}

// allows is checked for every event, not only at subscribe time: an
// identity sees only its organisation's claims (reviewers all), and a
// subscription ends when its token expires.
func (f *Filter) allows(d *Delivery, k Kind) bool {
	if k != f.Kind || (f.ClaimID != nil && *f.ClaimID != d.Event.ClaimID) {
		return false
	}
	return f.Identity.CanSeeOrganisation(d.Event.OrganizationID)
}

// Config tunes a hub.
type Config struct {
	// Buffer is each subscriber's queue; a subscriber whose queue is full
	// is dropped as too slow.
	Buffer int
	// Poll is how often the hub looks for events nobody announced (a lost
	// notification); announcements normally wake it at once.
	Poll time.Duration
	// Batch bounds the events read per query.
	Batch int
}

// DefaultConfig suits a server.
var DefaultConfig = Config{Buffer: 64, Poll: 2 * time.Second, Batch: 256}

// Hub fans committed events out to subscribers.
type Hub struct {
	db  *gorm.DB
	cfg Config
	log *slog.Logger

	wake  chan struct{}
	ready chan struct{}

	mu      sync.RWMutex
	cursor  atomic.Int64 // every event up to here has been fanned out
	byClaim map[uuid.UUID]map[*subscriber]struct{}
	all     map[*subscriber]struct{}

	subscribers atomic.Int64
	delivered   atomic.Int64
	dropped     atomic.Int64
}

// ErrSlowConsumer ends a subscription that could not keep up.
var ErrSlowConsumer = errors.New("subscriber too slow: events were arriving faster than it read them")

// ErrExpired ends a subscription whose token expired.
var ErrExpired = errors.New("the token expired; subscribe again with a fresh token")

// NewHub returns a hub over db; Run starts it.
func NewHub(db *gorm.DB, cfg Config, log *slog.Logger) *Hub {
	return &Hub{
		db: db, cfg: cfg, log: log.With("component", "live"),
		wake: make(chan struct{}, 1), ready: make(chan struct{}),
		byClaim: map[uuid.UUID]map[*subscriber]struct{}{}, all: map[*subscriber]struct{}{},
	}
}

// Wake tells the hub that events may have committed.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Published implements events.Publisher: a local commit wakes the hub.
func (h *Hub) Published([]models.ClaimEvent) { h.Wake() }

// Stats are the hub's counters.
type Stats struct {
	Subscribers, Delivered, Dropped, Cursor int64
}

// Stats reads the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{h.subscribers.Load(), h.delivered.Load(), h.dropped.Load(), h.cursor.Load()}
}

// Run follows the event table until ctx ends. It starts from the newest
// event: subscribers that want older ones pass a cursor and are replayed.
func (h *Hub) Run(ctx context.Context) error {
	var last int64
	if err := h.db.WithContext(ctx).Model(&models.ClaimEvent{}).Select("COALESCE(MAX(seq), 0)").Scan(&last).Error; err != nil {
		return fmt.Errorf("live: find the newest event: %w", err)
	}
	h.cursor.Store(last)
	close(h.ready)
	poll := time.NewTicker(h.cfg.Poll)
	defer poll.Stop()
	for {
		if err := h.catchUp(ctx); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "reading events failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		case <-poll.C:
		}
	}
}

// Ready is closed once the hub knows where the event stream stands.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// catchUp fans out every event after the cursor, in order.
func (h *Hub) catchUp(ctx context.Context) error {
	for {
		ds, err := Load(ctx, h.db, h.db.Where("seq > ?", h.cursor.Load()), h.cfg.Batch)
		if err != nil || len(ds) == 0 {
			return err
		}
		for _, d := range ds {
			h.fanOut(d)
		}
		if len(ds) < h.cfg.Batch {
			return nil
		}
	}
}

func (h *Hub) fanOut(d *Delivery) {
	k, ok := d.kind()
	var slow []*subscriber
	h.mu.RLock()
	if ok {
		offer := func(s *subscriber) {
			if !s.filter.allows(d, k) {
				return
			}
			if s.expired() {
				slow = append(slow, s)
				return
			}
			if !s.offer(d) {
				slow = append(slow, s)
				return
			}
			h.delivered.Add(1)
		}
		for s := range h.byClaim[d.Event.ClaimID] {
			offer(s)
		}
		if k == StatusChanges {
			for s := range h.all {
				offer(s)
			}
		}
	}
	h.cursor.Store(d.Event.Seq)
	h.mu.RUnlock()
	for _, s := range slow {
		reason := ErrSlowConsumer
		if s.expired() {
			reason = ErrExpired
		} else {
			h.dropped.Add(1)
		}
		h.remove(s, reason)
	}
}

// Load reads up to limit events matching q (a condition on claim_events)
// in sequence order, with their claims and comments, in three queries
// whatever the number of events.
func Load(ctx context.Context, db *gorm.DB, q *gorm.DB, limit int) ([]*Delivery, error) {
	var evs []models.ClaimEvent
	if err := db.WithContext(ctx).Where(q).Order("seq").Limit(limit).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("live: read events: %w", err)
	}
	if len(evs) == 0 {
		return nil, nil
	}
	claimIDs, commentIDs := make([]uuid.UUID, 0, len(evs)), []uuid.UUID{}
	for _, e := range evs {
		claimIDs = append(claimIDs, e.ClaimID)
		if e.CommentID != nil {
			commentIDs = append(commentIDs, *e.CommentID)
		}
	}
	var cs []models.Claim
	if err := db.WithContext(ctx).Where("id IN ?", claimIDs).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("live: read claims: %w", err)
	}
	var cms []models.Comment
	if len(commentIDs) > 0 {
		if err := db.WithContext(ctx).Where("id IN ?", commentIDs).Find(&cms).Error; err != nil {
			return nil, fmt.Errorf("live: read comments: %w", err)
		}
	}
	claims := make(map[uuid.UUID]*models.Claim, len(cs))
	for i := range cs {
		claims[cs[i].ID] = &cs[i]
	}
	comments := make(map[uuid.UUID]*models.Comment, len(cms))
	for i := range cms {
		comments[cms[i].ID] = &cms[i]
	}
	// One set of loaders per batch: every subscriber of every event in it
	// resolves relations (organisation, product, tenant …) through them.
	shared := loaders.New(db)
	out := make([]*Delivery, len(evs))
	for i := range evs {
		d := &Delivery{Event: &evs[i], Claim: claims[evs[i].ClaimID], Loaders: shared}
		if evs[i].CommentID != nil {
			d.Comment = comments[*evs[i].CommentID]
		}
		if d.Claim != nil {
			shared.Claims.Prime(d.Claim.ID, d.Claim)
		}
		out[i] = d
	}
	return out, nil
}
