package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage/storagetest"
	"cpor/testkit/fakeclock"
)

// t0 is where every test's clock starts.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// fakeSender records what it is asked to send and answers as told. It is
// safe for concurrent use.
type fakeSender struct {
	mu      sync.Mutex
	seen    []uuid.UUID
	msgs    map[uuid.UUID][]outbox.Message
	byID    map[uuid.UUID]outbox.Result
	next    []outbox.Result
	gate    chan struct{} // when set, Send waits for it to close (or ctx)
	entered chan uuid.UUID
	sleep   time.Duration
}

func newFake() *fakeSender {
	return &fakeSender{msgs: map[uuid.UUID][]outbox.Message{}, byID: map[uuid.UUID]outbox.Result{}}
}

// temporary is a failure worth retrying; code is the HTTP status, 0 for none.
func temporary(code int) outbox.Result {
	return outbox.Result{StatusCode: code, Err: fmt.Errorf("receiver answered %d", code)}
}

// permanent is a refusal no retry can change.
func permanent(code int) outbox.Result {
	return outbox.Result{StatusCode: code, Err: errors.New("receiver refused for good"), Permanent: true}
}

// FailFor makes every send of the delivery answer res.
func (f *fakeSender) FailFor(id uuid.UUID, res outbox.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byID[id] = res
}

// FailNext makes the next n sends answer res (after any given by ID).
func (f *fakeSender) FailNext(n int, res outbox.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.next = append(f.next, res)
	}
}

// Block makes sends wait until the returned release is called; each send
// that starts waiting is announced on the returned channel.
func (f *fakeSender) Block() (entered <-chan uuid.UUID, release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gate := make(chan struct{})
	f.gate, f.entered = gate, make(chan uuid.UUID, 1000)
	var once sync.Once
	return f.entered, func() { once.Do(func() { close(gate) }) }
}

// Sleep makes every send take d.
func (f *fakeSender) Sleep(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleep = d
}

func (f *fakeSender) Send(ctx context.Context, m outbox.Message) outbox.Result {
	f.mu.Lock()
	id := m.Delivery.ID
	f.seen = append(f.seen, id)
	f.msgs[id] = append(f.msgs[id], m)
	res, ok := f.byID[id]
	if !ok && len(f.next) > 0 {
		res, f.next = f.next[0], f.next[1:]
	}
	gate, entered, sleep := f.gate, f.entered, f.sleep
	f.mu.Unlock()
	if gate != nil {
		entered <- id
		select {
		case <-gate:
		case <-ctx.Done():
			return outbox.Result{Err: ctx.Err()}
		}
	}
	if sleep > 0 {
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return outbox.Result{Err: ctx.Err()}
		}
	}
	return res
}

// Seen returns the IDs sent so far, in the order the sends started.
func (f *fakeSender) Seen() []uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uuid.UUID(nil), f.seen...)
}

// Messages returns what was sent for one delivery, one per attempt.
func (f *fakeSender) Messages(id uuid.UUID) []outbox.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]outbox.Message(nil), f.msgs[id]...)
}

// newDispatcher builds a dispatcher on c's time with its own registry.
func newDispatcher(t *testing.T, db *gorm.DB, c *fakeclock.Clock, cfg outbox.Config, senders map[models.Channel]outbox.Sender) (*outbox.Dispatcher, *prometheus.Registry) {
	t.Helper()
	cfg.Clock = c.Now
	reg := prometheus.NewRegistry()
	d, err := outbox.New(db, cfg, senders, storagetest.Logger(t), reg)
	if err != nil {
		t.Fatalf("new dispatcher: %v", err)
	}
	return d, reg
}

// due is a pending delivery due at now, with a day to go.
func due(ch models.Channel, now time.Time) models.Delivery {
	return models.Delivery{
		ID: uuid.New(), Channel: ch, Recipient: "x", Status: models.DeliveryPending,
		NextAttemptAt: now, GiveUpAt: now.Add(24 * time.Hour), CreatedAt: now,
	}
}

func insert(t *testing.T, db *gorm.DB, ds ...models.Delivery) {
	t.Helper()
	if err := db.CreateInBatches(ds, 100).Error; err != nil {
		t.Fatalf("insert deliveries: %v", err)
	}
}

// notification inserts a reviewers' notification.
func notification(t *testing.T, db *gorm.DB, now time.Time) models.Notification {
	t.Helper()
	n := models.Notification{
		ID: uuid.New(), Audience: models.AudienceReviewers, Kind: models.NotifySubmitted,
		ClaimName: "Roof", Title: "Claim submitted", Body: "A claim awaits review.", CreatedAt: now,
	}
	if err := db.Create(&n).Error; err != nil {
		t.Fatalf("insert notification: %v", err)
	}
	return n
}

func delivery(t *testing.T, db *gorm.DB, id uuid.UUID) models.Delivery {
	t.Helper()
	var d models.Delivery
	if err := db.Take(&d, "id = ?", id).Error; err != nil {
		t.Fatalf("read delivery %s: %v", id, err)
	}
	return d
}

func attempts(t *testing.T, db *gorm.DB, id uuid.UUID) []models.DeliveryAttempt {
	t.Helper()
	var as []models.DeliveryAttempt
	if err := db.Where("delivery_id = ?", id).Order("id").Find(&as).Error; err != nil {
		t.Fatalf("read attempts of %s: %v", id, err)
	}
	return as
}

func count(t *testing.T, db *gorm.DB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func dispatch(t *testing.T, d *outbox.Dispatcher, max int) int {
	t.Helper()
	n, err := d.DispatchDue(context.Background(), max)
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	return n
}

// series finds the metric of the family name with exactly these labels.
func series(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

// seriesCount is how many series the family name has.
func seriesCount(t *testing.T, reg prometheus.Gatherer, name string) int {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

// waitFor polls cond until it holds, failing after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
