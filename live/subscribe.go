package live

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"cpor/auth"
	"cpor/events"
	"cpor/models"
)

// subscriber is one subscription as the hub sees it.
type subscriber struct {
	filter    Filter
	expiresAt time.Time
	offer     func(*Delivery) bool // non-blocking; false when the queue is full
	closed    func(reason error)   // called once, after the hub stopped offering
}

func (s *subscriber) expired() bool {
	return !s.expiresAt.IsZero() && time.Now().After(s.expiresAt)
}

// Options of one subscription.
type Options struct {
	// After replays every matching event after this sequence number before
	// going live, with no gap and no duplicate; nil starts live.
	After *int64
	// ExpiresAt ends the subscription when the token expires.
	ExpiresAt time.Time
}

// Hooks let the transport that carries a subscription read its stream
// without parking a goroutine on it.
type Hooks struct {
	// Ready is called with each event queued on the stream, and once with
	// nil when the stream closes. It runs on the hub's goroutine and must
	// not block.
	Ready func(*Delivery)
	// Ended is told why the hub ended the subscription (ErrSlowConsumer,
	// ErrExpired) just before the stream closes; not called when the
	// subscription's context ends it.
	Ended func(reason error)
	// Subscribed is called once the subscription is registered, before
	// Subscribe returns its stream, with the sequence number it follows on
	// from: the After it resumes from, or the hub's cursor when it starts
	// live. Resuming from there, or from a later event's, misses nothing.
	Subscribed func(from int64)
	// Deliver, when set, takes live events in place of the stream's queue;
	// it runs on the hub's goroutine and must not block. It reports false
	// when the subscriber cannot take more, which ends it as too slow.
	// Later, on any goroutine, push puts the event's payload on the stream
	// for the transport to render it; push reports false once the
	// subscription has ended. Replayed events still come through the
	// stream and Ready.
	Deliver func(d *Delivery, push func() bool) bool
}

type hooksKey struct{}

// WithHooks returns ctx carrying the transport's hooks for a subscription
// started with it.
func WithHooks(ctx context.Context, h Hooks) context.Context {
	return context.WithValue(ctx, hooksKey{}, h)
}

func hooksFrom(ctx context.Context) Hooks {
	h, _ := ctx.Value(hooksKey{}).(Hooks)
	if h.Ready == nil {
		h.Ready = func(*Delivery) {}
	}
	if h.Ended == nil {
		h.Ended = func(error) {}
	}
	if h.Subscribed == nil {
		h.Subscribed = func(int64) {}
	}
	return h
}

// Subscribe registers a subscriber until ctx ends. convert turns a
// delivery into what the channel carries (it runs on the hub's goroutine
// and must not block). The channel closes when the subscription ends.
func Subscribe[T any](ctx context.Context, h *Hub, f Filter, opts Options, convert func(*Delivery) T) (<-chan T, error) {
	select {
	case <-h.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	hooks := hooksFrom(ctx)
	if opts.After == nil {
		out := make(chan T, h.cfg.Buffer)
		s := &subscriber{filter: f, expiresAt: opts.ExpiresAt}
		// Deliver's push may run on another goroutine as the hub closes
		// the stream: the lock keeps it from sending on a closed channel.
		var outMu sync.Mutex
		outClosed := false
		push := func(d *Delivery) bool {
			outMu.Lock()
			defer outMu.Unlock()
			if outClosed {
				return false
			}
			select {
			case out <- convert(d):
				return true
			default:
				return false
			}
		}
		s.offer = func(d *Delivery) bool {
			if !push(d) {
				return false
			}
			hooks.Ready(d)
			return true
		}
		if hooks.Deliver != nil {
			s.offer = func(d *Delivery) bool {
				return hooks.Deliver(d, func() bool { return push(d) })
			}
		}
		s.closed = func(reason error) {
			if reason != nil {
				hooks.Ended(reason)
			}
			outMu.Lock()
			outClosed = true
			close(out)
			outMu.Unlock()
			hooks.Ready(nil)
		}
		from, err := h.add(ctx, s)
		if err != nil {
			return nil, err
		}
		hooks.Subscribed(from)
		return out, nil
	}
	return resume(ctx, h, f, opts, hooks, convert)
}

// resume replays the events after opts.After, then forwards live ones. The
// subscriber is registered first and queues live events from the hub's
// cursor at that moment; the replay stops exactly there.
func resume[T any](ctx context.Context, h *Hub, f Filter, opts Options, hooks Hooks, convert func(*Delivery) T) (<-chan T, error) {
	queue := make(chan *Delivery, h.cfg.Buffer)
	ended := make(chan error, 1)
	s := &subscriber{filter: f, expiresAt: opts.ExpiresAt}
	s.offer = func(d *Delivery) bool {
		select {
		case queue <- d:
			return true
		default:
			return false
		}
	}
	s.closed = func(reason error) {
		ended <- reason
		close(queue)
	}
	liveFrom, err := h.add(ctx, s)
	if err != nil {
		return nil, err
	}
	hooks.Subscribed(*opts.After)

	out := make(chan T, h.cfg.Buffer)
	go func() {
		defer func() {
			close(out)
			hooks.Ready(nil)
		}()
		end := func(reason error) {
			if reason != nil {
				hooks.Ended(reason)
			}
		}
		send := func(d *Delivery) bool {
			select {
			case out <- convert(d):
				hooks.Ready(d)
				return true
			case <-ctx.Done():
				return false
			}
		}
		if err := replay(ctx, h, f, *opts.After, liveFrom, send); err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "replay failed", "err", err)
				end(err)
			}
			return
		}
		for d := range queue {
			if !send(d) {
				return
			}
		}
		end(<-ended)
	}()
	return out, nil
}

// replay sends the events in (after, until] that the filter allows.
func replay(ctx context.Context, h *Hub, f Filter, after, until int64, send func(*Delivery) bool) error {
	for after < until {
		q := h.db.Where("seq > ? AND seq <= ?", after, until)
		switch {
		case f.ClaimID != nil:
			q = q.Where("claim_id = ?", *f.ClaimID)
		case !f.Identity.IsReviewer():
			q = q.Where(visibleEvents(h.db, f.Identity))
		}
		if f.Kind == StatusChanges {
			q = q.Where("type = ?", models.EventStatusChanged)
		} else {
			q = q.Where("type = ?", models.EventCommentAdded)
		}
		ds, err := Load(ctx, h.db, q, h.cfg.Batch)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return nil
		}
		for _, d := range ds {
			if k, ok := d.kind(); ok && f.allows(d, k) && !send(d) {
				return ctx.Err()
			}
			after = d.Event.Seq
		}
	}
	return nil
}

// joinRequest asks the hub's goroutine to register a subscriber; settled,
// when positive, is a settled sequence number the hub must reach first.
type joinRequest struct {
	s       *subscriber
	settled int64
	from    chan int64
}

// add registers s until ctx ends and returns the cursor it starts after.
// A hub that is behind (it passed announcements over while nobody who
// could see them listened) first catches up to a settled point taken now,
// so the subscriber is not handed events from before it subscribed.
func (h *Hub) add(ctx context.Context, s *subscriber) (int64, error) {
	j := joinRequest{s: s, from: make(chan int64, 1)}
	if h.behind() {
		settled, err := events.Settled(ctx, h.db)
		if err != nil {
			return 0, fmt.Errorf("live: find where the stream stands: %w", err)
		}
		j.settled = settled
	}
	select {
	case h.joins <- j:
	case <-h.stopped:
		return 0, ErrStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	from := <-j.from
	h.subscribers.Add(1)
	context.AfterFunc(ctx, func() { h.remove(s, nil) })
	return from, nil
}

// join runs on the hub's goroutine: it brings the cursor to the request's
// settled point for the subscribers already there, then registers the new
// one from the cursor.
func (h *Hub) join(ctx context.Context, j joinRequest) {
	if j.settled > h.cursor.Load() {
		if err := h.advance(ctx, j.settled); err != nil && ctx.Err() == nil {
			// The subscriber starts further back: it may get events from
			// just before it subscribed, but misses none.
			h.log.WarnContext(ctx, "catching up for a new subscriber failed", "err", err)
		}
	}
	s := j.s
	h.mu.Lock()
	if s.filter.ClaimID != nil {
		set := h.byClaim[*s.filter.ClaimID]
		if set == nil {
			set = map[*subscriber]struct{}{}
			h.byClaim[*s.filter.ClaimID] = set
		}
		set[s] = struct{}{}
	} else {
		h.all[s] = struct{}{}
	}
	h.interest.change(&s.filter, 1)
	from := h.cursor.Load()
	h.mu.Unlock()
	j.from <- from
}

// remove unregisters s (once) and closes its stream.
func (h *Hub) remove(s *subscriber, reason error) {
	h.mu.Lock()
	_, inAll := h.all[s]
	var inClaim bool
	if s.filter.ClaimID != nil {
		set := h.byClaim[*s.filter.ClaimID]
		_, inClaim = set[s]
		delete(set, s)
		if len(set) == 0 {
			delete(h.byClaim, *s.filter.ClaimID)
		}
	}
	delete(h.all, s)
	if inAll || inClaim {
		h.interest.change(&s.filter, -1)
	}
	h.mu.Unlock()
	if inAll || inClaim {
		h.subscribers.Add(-1)
		s.closed(reason)
	}
}

// visibleEvents is the condition on the events of the claims the identity
// may follow without naming one: its organisation's, its tenant's submitted
// ones. Filter.allows still decides each event.
func visibleEvents(db *gorm.DB, id *auth.Identity) *gorm.DB {
	cond := db.Where("1 = 0")
	if id.IsPartnerAdmin() {
		cond = cond.Or("organization_id = ?", id.OrganizationID)
	}
	if id.IsCustomerAdmin() {
		cond = cond.Or(tenantsClaims("customer_tenant_id = ?"), id.TenantID)
	}
	return cond
}
