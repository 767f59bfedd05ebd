// Package outbox delivers what package notify writes in the transactions
// of claim events: e-mails and webhook calls, one row each in the
// deliveries table.
//
// Guarantees:
//
//   - Nothing is lost. A delivery exists exactly when the transaction that
//     caused it commits, and stays pending until an attempt succeeds, its
//     retry window ends, or its receiver refuses it for good.
//   - At least once. A dispatcher takes due rows with a lease (on
//     PostgreSQL with FOR UPDATE SKIP LOCKED, so instances never take the
//     same row while a lease lasts) and records each attempt after it. An
//     instance that dies mid-send leaves the row to be taken again when the
//     lease ends, so a receiver may see a delivery twice: the delivery's ID
//     (the webhook-id header, the e-mail's Message-ID) lets it drop the
//     second.
//   - Backoff. A failed attempt moves the row later by an exponential,
//     jittered delay; past its window the row is FAILED (and can be
//     redelivered by hand).
//   - Catch-up. Rows that fell due while no instance ran are sent oldest
//     first, as many at a time as Concurrency allows.
package outbox

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
)

// Dispatcher sends due deliveries through the senders of their channels.
type Dispatcher struct {
	db       *gorm.DB
	cfg      Config
	senders  map[models.Channel]Sender
	channels []models.Channel
	leaseSQL string
	log      *slog.Logger
	metrics  *metrics
	wake     chan struct{}

	depthMu   sync.Mutex
	depthRead time.Time
}

// New returns a dispatcher of the senders' channels; rows of other channels
// are left alone. Its metrics are registered on reg; a nil log discards.
func New(db *gorm.DB, cfg Config, senders map[models.Channel]Sender, log *slog.Logger, reg prometheus.Registerer) (*Dispatcher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(senders) == 0 {
		return nil, errors.New("outbox: no senders")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Dispatcher{
		db: db, cfg: cfg, senders: maps.Clone(senders),
		channels: slices.Sorted(maps.Keys(senders)),
		leaseSQL: leaseSQL(storage.DialectOf(db)),
		log:      log.With("component", "outbox"), metrics: m,
		wake: make(chan struct{}, 1),
	}, nil
}

// Wake tells the dispatcher that deliveries were just committed, so it
// looks at once instead of at its next interval. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// leaseSQL takes up to n due rows for this dispatcher in one statement.
//
// On PostgreSQL SKIP LOCKED passes over rows another instance is taking
// right now, and a row it has just taken no longer matches once its lock is
// released (FOR UPDATE re-checks the condition on the newest row version),
// so each row is leased by one instance at a time. On SQLite the statement
// runs under the database's single write lock.
func leaseSQL(dialect storage.Dialect) string {
	inner := "SELECT id FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= @now" +
		" AND (leased_until IS NULL OR leased_until <= @now) AND channel IN @channels" +
		" ORDER BY next_attempt_at, id LIMIT @n"
	if dialect == storage.Postgres {
		inner += " FOR UPDATE SKIP LOCKED"
	}
	return "UPDATE deliveries SET leased_until = @until WHERE id IN (" + inner + ") RETURNING *"
}

// Run sends due deliveries until ctx ends, then waits for the sends in
// flight (each bounded by AttemptTimeout) to be recorded, and returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.log.InfoContext(ctx, "outbox dispatcher started", "channels", d.channels, "concurrency", d.cfg.Concurrency)
	var (
		inFlight sync.WaitGroup
		slots    = make(chan struct{}, d.cfg.Concurrency)
		freed    = make(chan struct{}, 1)
	)
	defer inFlight.Wait()
	for {
		free := cap(slots) - len(slots)
		taken := 0
		if free > 0 {
			msgs, err := d.lease(ctx, free)
			if err != nil && ctx.Err() == nil {
				d.log.ErrorContext(ctx, "outbox: take due deliveries", "error", err)
			}
			for _, m := range msgs {
				slots <- struct{}{}
				inFlight.Add(1)
				go func() {
					defer inFlight.Done()
					d.deliver(ctx, m)
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
			}
			taken = len(msgs)
		}
		if taken > 0 && taken == free {
			continue // more may be due: look again as soon as a slot frees
		}
		d.refreshDepth(ctx)
		timer := time.NewTimer(d.cfg.Interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-d.wake:
		case <-freed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// DispatchDue takes what is due now, at most max rows, sends them all and
// records the attempts before it returns how many it took. Tests and the
// bench drive the dispatcher with it.
func (d *Dispatcher) DispatchDue(ctx context.Context, max int) (int, error) {
	msgs, err := d.lease(ctx, max)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.cfg.Concurrency)
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.deliver(ctx, m)
			<-sem
		}()
	}
	wg.Wait()
	d.depthMu.Lock()
	d.depthRead = time.Time{}
	d.depthMu.Unlock()
	d.refreshDepth(ctx)
	return len(msgs), nil
}

// leased is a taken delivery and the moment its lease ends, which fences
// the record of its attempt.
type leased struct {
	Message
	until time.Time
}

// lease takes up to n due rows and reads their notifications.
func (d *Dispatcher) lease(ctx context.Context, n int) ([]leased, error) {
	now := d.now()
	until := now.Add(d.cfg.Lease)
	var rows []models.Delivery
	err := d.db.WithContext(ctx).Raw(d.leaseSQL, map[string]any{
		"now": now, "until": until, "channels": d.channels, "n": n,
	}).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	notes, err := d.notifications(ctx, rows)
	if err != nil {
		return nil, err
	}
	out := make([]leased, len(rows))
	for i, r := range rows {
		out[i] = leased{Message: Message{Delivery: r}, until: until}
		if r.NotificationID != nil {
			out[i].Notification = notes[*r.NotificationID]
		}
	}
	// Oldest first, as the statement chose them (RETURNING keeps no order).
	slices.SortFunc(out, func(a, b leased) int { return a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt) })
	return out, nil
}

func (d *Dispatcher) notifications(ctx context.Context, rows []models.Delivery) (map[uuid.UUID]*models.Notification, error) {
	var ids []uuid.UUID
	for _, r := range rows {
		if r.NotificationID != nil && !slices.Contains(ids, *r.NotificationID) {
			ids = append(ids, *r.NotificationID)
		}
	}
	out := map[uuid.UUID]*models.Notification{}
	if len(ids) == 0 {
		return out, nil
	}
	var ns []models.Notification
	if err := d.db.WithContext(ctx).Where("id IN ?", ids).Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("read notifications of deliveries: %w", err)
	}
	for i := range ns {
		out[ns[i].ID] = &ns[i]
	}
	return out, nil
}

// deliver makes one attempt and records it. The send is not cut short by
// shutdown (only by its own timeout), so a drain waits for it and records
// what the receiver answered.
func (d *Dispatcher) deliver(ctx context.Context, l leased) {
	ch := string(l.Delivery.Channel)
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.AttemptTimeout)
	started := time.Now()
	res := d.senders[l.Delivery.Channel].Send(sendCtx, l.Message)
	took := time.Since(started)
	cancel()
	d.metrics.send.WithLabelValues(ch).Observe(took.Seconds())
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.AttemptTimeout)
	defer cancel()
	if err := d.record(recordCtx, l, res, took); err != nil {
		// The lease ends and the row is taken again: at least once.
		d.log.ErrorContext(ctx, "outbox: record an attempt", "delivery", l.Delivery.ID, "channel", ch, "error", err)
	}
}

// errLeaseLost is a record refused because the lease ended and another
// dispatcher took the row meanwhile; that one records its own attempt.
var errLeaseLost = errors.New("the delivery's lease ended before its attempt was recorded")

// record writes the attempt and the row's new state in one transaction.
func (d *Dispatcher) record(ctx context.Context, l leased, res Result, took time.Duration) error {
	now := d.now()
	del := &l.Delivery
	attempts := del.Attempts + 1
	status, next, final := d.next(del, res, attempts, now)
	err := storage.InTx(ctx, d.db, func(tx *storage.Tx) error {
		updates := map[string]any{
			"status": status, "attempts": attempts, "leased_until": nil,
			"last_error": errorText(res.Err), "next_attempt_at": next,
		}
		if status == models.DeliveryDelivered {
			updates["delivered_at"] = now
		}
		moved := tx.Model(&models.Delivery{}).Where("id = ? AND leased_until = ?", del.ID, l.until).Updates(updates)
		if moved.Error != nil {
			return fmt.Errorf("update delivery: %w", moved.Error)
		}
		if moved.RowsAffected != 1 {
			return errLeaseLost
		}
		attempt := models.DeliveryAttempt{DeliveryID: del.ID, AttemptedAt: now, LatencyMs: int(took.Milliseconds()), Error: errorText(res.Err)}
		if res.StatusCode != 0 {
			attempt.StatusCode = &res.StatusCode
		}
		if err := tx.Create(&attempt).Error; err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if s, ok := d.senders[del.Channel].(Settler); ok {
			return s.Settle(tx, l.Message, res, final, now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.counted(l, status, res, now)
	return nil
}

// next is where an attempt leaves the row: delivered, due again after a
// backoff, or failed for good (refused, or the next try would fall past
// the window).
func (d *Dispatcher) next(del *models.Delivery, res Result, attempts int, now time.Time) (models.DeliveryStatus, time.Time, bool) {
	if res.Err == nil {
		return models.DeliveryDelivered, now, true
	}
	next := now.Add(d.backoff(attempts))
	if res.Permanent || next.After(del.GiveUpAt) {
		return models.DeliveryFailed, now, true
	}
	return models.DeliveryPending, next, false
}

// backoff is the delay after the nth failed attempt: BackoffBase doubling
// up to BackoffMax, then between half and all of it at random.
func (d *Dispatcher) backoff(n int) time.Duration {
	delay := d.cfg.BackoffBase
	for i := 1; i < n && delay < d.cfg.BackoffMax; i++ {
		delay *= 2
	}
	delay = min(delay, d.cfg.BackoffMax)
	if half := delay / 2; half > 0 {
		return half + rand.N(half+1)
	}
	return delay
}

func (d *Dispatcher) counted(l leased, status models.DeliveryStatus, res Result, now time.Time) {
	ch := string(l.Delivery.Channel)
	log := d.log.With("delivery", l.Delivery.ID, "channel", ch, "attempt", l.Delivery.Attempts+1)
	switch status {
	case models.DeliveryDelivered:
		d.metrics.attempts.WithLabelValues(ch, "delivered").Inc()
		d.metrics.delay.WithLabelValues(ch).Observe(now.Sub(l.Delivery.CreatedAt).Seconds())
	case models.DeliveryFailed:
		d.metrics.attempts.WithLabelValues(ch, "failed").Inc()
		d.metrics.failed.WithLabelValues(ch).Inc()
		log.Error("outbox: delivery failed for good", "error", res.Err, "permanent", res.Permanent)
	default:
		d.metrics.attempts.WithLabelValues(ch, "retry").Inc()
		log.Warn("outbox: attempt failed; will retry", "error", res.Err, "status", res.StatusCode)
	}
}

// errorText keeps a failure's message short enough to store.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return storageSafe(s)
}

// storageSafe drops what PostgreSQL refuses in text (NUL) and invalid UTF-8.
func storageSafe(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r != 0 && r != '\uFFFD' {
			out = append(out, r)
		}
	}
	return string(out)
}

func (d *Dispatcher) now() time.Time { return d.cfg.Clock().UTC().Truncate(time.Microsecond) }

// refreshDepth counts the pending rows for the metrics, at most once an
// interval.
func (d *Dispatcher) refreshDepth(ctx context.Context) {
	d.depthMu.Lock()
	defer d.depthMu.Unlock()
	if time.Since(d.depthRead) < d.cfg.Interval {
		return
	}
	d.depthRead = time.Now()
	var rows []struct {
		Channel string
		N       int64
		Oldest  aggregateTime
	}
	err := d.db.WithContext(ctx).Model(&models.Delivery{}).Select("channel, COUNT(*) AS n, MIN(created_at) AS oldest").
		Where("status = ?", models.DeliveryPending).Group("channel").Scan(&rows).Error
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "outbox: count pending deliveries", "error", err)
		}
		return
	}
	now := d.now()
	for _, ch := range d.channels {
		d.metrics.pending.WithLabelValues(string(ch)).Set(0)
		d.metrics.oldest.WithLabelValues(string(ch)).Set(0)
	}
	for _, r := range rows {
		d.metrics.pending.WithLabelValues(r.Channel).Set(float64(r.N))
		if !r.Oldest.IsZero() {
			d.metrics.oldest.WithLabelValues(r.Channel).Set(now.Sub(r.Oldest.Time).Seconds())
		}
	}
}

// aggregateTime reads a timestamp an aggregate returns: a time from
// PostgreSQL, but the stored text from SQLite, whose MIN keeps no column
// type for its driver to parse by. (GORM scans into a struct only if it is
// a Valuer too.)
type aggregateTime struct{ time.Time }

func (a aggregateTime) Value() (driver.Value, error) { return a.Time, nil }

func (a *aggregateTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		a.Time = time.Time{}
	case time.Time:
		a.Time = v
	case string:
		t, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", v)
		if err != nil {
			return fmt.Errorf("read a timestamp: %w", err)
		}
		a.Time = t
	default:
		return fmt.Errorf("read a timestamp: unexpected %T", src)
	}
	return nil
}
