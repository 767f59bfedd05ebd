// Package live delivers committed claim events to subscribers. The
// claim_events table is the truth: the hub follows it by sequence number up
// to settled marks (events/settled.go), told of commits in-process and, on
// PostgreSQL, by LISTEN/NOTIFY from every instance, so an event is
// delivered only after it commits, to every subscriber who may see it, once
// and in order, whichever instance wrote it. An announcement says what a
// commit's events concern: the hub reads nothing for events nobody may see.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/claims"
	"cpor/events"
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
	switch s, ok := events.StreamOf(d.Event); {
	case ok && s == events.StatusStream:
		return StatusChanges, true
	case ok && s == events.CommentStream && d.Comment != nil:
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
// identity sees only its organisation's claims (reviewers all), a customer
// admin the status changes of its tenant's submitted claims (claims.CanRead)
// but no comment, and a subscription ends when its token expires.
func (f *Filter) allows(d *Delivery, k Kind) bool {
	if k != f.Kind || (f.ClaimID != nil && *f.ClaimID != d.Event.ClaimID) {
		return false
	}
	if f.Identity.CanSeeOrganisation(d.Event.OrganizationID) {
		return true
	}
	return k == StatusChanges && d.Claim != nil && claims.CanRead(f.Identity, d.Claim)
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

// Hub fans committed events out to subscribers. One goroutine (Run) reads
// the log and registers subscribers, so that a read and the set of
// subscribers it was made for always agree.
type Hub struct {
	db  *gorm.DB
	cfg Config
	log *slog.Logger

	wake    chan struct{}
	joins   chan joinRequest
	ready   chan struct{}
	stopped chan struct{}

	mu       sync.RWMutex
	cursor   atomic.Int64 // every event up to here has been fanned out
	byClaim  map[uuid.UUID]map[*subscriber]struct{}
	all      map[*subscriber]struct{}
	interest interest
	// want says an announced event may interest a subscriber (or an
	// announcement said too little to tell): the hub must read.
	want bool
	// seen is the newest sequence number announced; unknown says events
	// may have committed unannounced. Either ahead of the cursor means a
	// new subscriber must wait for the hub to catch up, or it would be
	// given events from before it subscribed.
	seen    int64
	unknown bool

	// marks not yet settled (only the hub's goroutine uses them).
	marks []events.Mark

	subscribers atomic.Int64
	delivered   atomic.Int64
	dropped     atomic.Int64
}

// ErrSlowConsumer ends a subscription that could not keep up.
var ErrSlowConsumer = errors.New("subscriber too slow: events were arriving faster than it read them")

// ErrExpired ends a subscription whose token expired.
var ErrExpired = errors.New("the token expired; subscribe again with a fresh token")

// ErrStopped refuses a subscription to a hub that no longer runs.
var ErrStopped = errors.New("the live hub has stopped")

// NewHub returns a hub over db; Run starts it.
func NewHub(db *gorm.DB, cfg Config, log *slog.Logger) *Hub {
	return &Hub{
		db: db, cfg: cfg, log: log.With("component", "live"),
		wake: make(chan struct{}, 1), joins: make(chan joinRequest), ready: make(chan struct{}), stopped: make(chan struct{}),
		byClaim: map[uuid.UUID]map[*subscriber]struct{}{}, all: map[*subscriber]struct{}{},
		interest: newInterest(),
	}
}

// Wake tells the hub that events may have committed, without saying which
// (a reconnected listener): it looks if anyone listens.
func (h *Hub) Wake() { h.Announce(events.Announcement{Partial: true}) }

// Published implements events.Publisher: a local commit announces itself.
func (h *Hub) Published(rows []models.ClaimEvent) { h.Announce(events.Announce(rows)) }

// Announce tells the hub of committed events. It costs nothing when no
// subscriber may see them: the hub only notes that it is behind.
func (h *Hub) Announce(a events.Announcement) {
	h.mu.Lock()
	h.seen = max(h.seen, a.Last)
	if a.Partial {
		h.unknown = true
	}
	wanted := h.interest.total > 0 && (a.Partial || slices.ContainsFunc(a.Events, h.interest.mayWant))
	h.want = h.want || wanted
	h.mu.Unlock()
	if wanted {
		h.signal()
	}
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Stats are the hub's counters.
type Stats struct {
	Subscribers, Delivered, Dropped int64
	// Cursor is the newest event the hub has dealt with: fanned out, or
	// announced while nobody who may see it listened.
	Cursor int64
}

// Stats reads the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	passed := h.seen
	h.mu.RUnlock()
	return Stats{h.subscribers.Load(), h.delivered.Load(), h.dropped.Load(), max(h.cursor.Load(), passed)}
}

// Run follows the event table until ctx ends. It starts from the newest
// settled event: subscribers that want older ones pass a cursor and are
// replayed.
func (h *Hub) Run(ctx context.Context) error {
	defer close(h.stopped)
	start, err := events.Settled(ctx, h.db)
	if err != nil {
		return fmt.Errorf("live: find the newest event: %w", err)
	}
	h.cursor.Store(start)
	close(h.ready)
	poll := time.NewTicker(h.cfg.Poll)
	defer poll.Stop()
	recheck := time.NewTimer(0)
	<-recheck.C
	wait := firstRecheck
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-h.joins:
			h.join(ctx, j)
			continue
		case <-h.wake:
		case <-poll.C:
			h.pollWanted()
		case <-recheck.C:
		}
		if !h.takeWant() && len(h.marks) == 0 {
			continue
		}
		if err := h.catchUp(ctx); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "reading events failed; retrying", "err", err)
			h.markUnknown()
		}
		if len(h.marks) > 0 {
			recheck.Reset(wait)
			wait = min(2*wait, maxRecheck, h.cfg.Poll)
		} else {
			wait = firstRecheck
		}
	}
}

// firstRecheck is how soon the hub looks again when writers were still in
// flight below its newest mark; it backs off to the poll interval.
const (
	firstRecheck = 2 * time.Millisecond
	maxRecheck   = 50 * time.Millisecond
)

// pollWanted makes the slow poll read, when anyone listens, in case a
// notification was lost.
func (h *Hub) pollWanted() {
	h.mu.Lock()
	h.want = h.want || h.interest.total > 0
	h.mu.Unlock()
}

func (h *Hub) takeWant() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.want
	h.want = false
	return w
}

func (h *Hub) markUnknown() {
	h.mu.Lock()
	h.unknown, h.want = true, true
	h.mu.Unlock()
}

// Ready is closed once the hub knows where the event stream stands.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// behind reports whether the hub may have events to read before a new
// subscriber can start from its cursor.
func (h *Hub) behind() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.unknown || h.seen > h.cursor.Load()
}

// catchUp takes a new mark and fans out every event up to the newest
// settled one.
func (h *Hub) catchUp(ctx context.Context) error {
	h.mu.Lock()
	h.unknown = false // the mark covers whatever was unannounced so far
	h.mu.Unlock()
	m, snap, err := events.TakeMark(ctx, h.db)
	if err != nil {
		return err
	}
	if len(h.marks) < maxMarks {
		h.marks = append(h.marks, m)
	}
	target := h.cursor.Load()
	kept := h.marks[:0]
	for _, m := range h.marks {
		if m.SettledIn(snap) {
			target = max(target, m.Seq)
		} else {
			kept = append(kept, m)
		}
	}
	h.marks = kept
	return h.advance(ctx, target)
}

// maxMarks bounds the marks waiting to settle; a newer one is taken once
// they have.
const maxMarks = 64

// advance fans out, in order, every event after the cursor up to target
// (settled) that some subscriber may see, reading no other.
func (h *Hub) advance(ctx context.Context, target int64) error {
	for h.cursor.Load() < target {
		h.mu.RLock()
		cond, args, someone := h.interest.condition()
		h.mu.RUnlock()
		if !someone {
			h.cursor.Store(target)
			return nil
		}
		from := h.cursor.Load()
		ds, err := Load(ctx, h.db, h.db.Where("seq > ? AND seq <= ?", from, target).Where(cond, args...), h.cfg.Batch)
		if err != nil {
			return err
		}
		for _, d := range ds {
			h.fanOut(d)
		}
		if len(ds) < h.cfg.Batch {
			h.cursor.Store(target)
		}
	}
	return nil
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
