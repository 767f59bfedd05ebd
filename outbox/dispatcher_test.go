package outbox_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage/storagetest"
	"cpor/testkit/fakeclock"
)

// TestDeliversDueRowsOnce: a due row is sent once and recorded as
// delivered with one attempt; the sender sees its notification (nil when
// none); rows not due, settled, or of a channel without a sender stay as
// they were.
func TestDeliversDueRowsOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := fakeclock.At(t0)
		now := c.Now()
		note := notification(t, db, now)
		fake := newFake()
		fake.Sleep(3 * time.Millisecond)
		d, _ := newDispatcher(t, db, c, outbox.Config{}, map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})

		withNote := due(models.ChannelWebhook, now)
		withNote.NotificationID = &note.ID
		plain := due(models.ChannelWebhook, now.Add(-time.Minute))
		future := due(models.ChannelWebhook, now.Add(time.Second))
		delivered := due(models.ChannelWebhook, now.Add(-time.Hour))
		delivered.Status, delivered.Attempts, delivered.DeliveredAt = models.DeliveryDelivered, 1, &now
		failed := due(models.ChannelWebhook, now.Add(-time.Hour))
		failed.Status, failed.Attempts = models.DeliveryFailed, 3
		email := due(models.ChannelEmail, now.Add(-time.Hour)) // no sender for e-mail
		insert(t, db, withNote, plain, future, delivered, failed, email)

		if n := dispatch(t, d, 100); n != 2 {
			t.Fatalf("took %d rows, want 2", n)
		}
		if n := dispatch(t, d, 100); n != 0 {
			t.Fatalf("second pass took %d rows, want 0", n)
		}
		seen := fake.Seen()
		slices.SortFunc(seen, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		want := []uuid.UUID{withNote.ID, plain.ID}
		slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		if !slices.Equal(seen, want) {
			t.Fatalf("sender saw %v, want %v", seen, want)
		}

		for _, tc := range []struct {
			name string
			row  models.Delivery
			note *models.Notification
		}{{"with notification", withNote, &note}, {"without notification", plain, nil}} {
			t.Run(tc.name, func(t *testing.T) {
				got := delivery(t, db, tc.row.ID)
				if got.Status != models.DeliveryDelivered || got.Attempts != 1 || got.LeasedUntil != nil || got.LastError != "" {
					t.Errorf("row = %+v, want DELIVERED after 1 attempt, no lease, no error", got)
				}
				if got.DeliveredAt == nil || !got.DeliveredAt.Equal(now) {
					t.Errorf("delivered_at = %v, want %v", got.DeliveredAt, now)
				}
				as := attempts(t, db, tc.row.ID)
				if len(as) != 1 {
					t.Fatalf("%d attempt rows, want 1", len(as))
				}
				if a := as[0]; !a.AttemptedAt.Equal(now) || a.LatencyMs < 3 || a.StatusCode != nil || a.Error != "" {
					t.Errorf("attempt = %+v, want at %v, latency >= 3ms, no status, no error", a, now)
				}
				msgs := fake.Messages(tc.row.ID)
				if len(msgs) != 1 {
					t.Fatalf("sent %d times", len(msgs))
				}
				if msgs[0].Delivery.ID != tc.row.ID || msgs[0].Delivery.Attempts != 0 {
					t.Errorf("sent delivery %+v", msgs[0].Delivery)
				}
				switch n := msgs[0].Notification; {
				case tc.note == nil && n != nil:
					t.Errorf("sender saw notification %+v, want nil", n)
				case tc.note != nil && (n == nil || n.ID != tc.note.ID || n.Title != tc.note.Title || n.Body != tc.note.Body):
					t.Errorf("sender saw notification %+v, want %+v", n, tc.note)
				}
			})
		}

		for _, tc := range []struct {
			name string
			row  models.Delivery
		}{{"not yet due", future}, {"already delivered", delivered}, {"already failed", failed}, {"channel without sender", email}} {
			t.Run("untouched "+tc.name, func(t *testing.T) {
				got := delivery(t, db, tc.row.ID)
				if got.Status != tc.row.Status || got.Attempts != tc.row.Attempts || got.LeasedUntil != nil {
					t.Errorf("row = %+v, want status %s, attempts %d, no lease", got, tc.row.Status, tc.row.Attempts)
				}
				if n := len(attempts(t, db, tc.row.ID)); n != 0 {
					t.Errorf("%d attempt rows, want none", n)
				}
			})
		}
	})
}

// TestTemporaryFailureBacksOff: a failed attempt leaves the row pending,
// due again after BackoffBase doubling per failure up to BackoffMax, each
// delay jittered within [d/2, d]; the attempt keeps the receiver's status.
func TestTemporaryFailureBacksOff(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const base, maxDelay = 10 * time.Second, 60 * time.Second
		c := fakeclock.At(t0)
		fake := newFake()
		d, _ := newDispatcher(t, db, c, outbox.Config{BackoffBase: base, BackoffMax: maxDelay},
			map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})
		row := due(models.ChannelWebhook, c.Now())
		insert(t, db, row)

		steps := []struct {
			res   outbox.Result
			delay time.Duration // the undithered delay after this failure
		}{
			{temporary(503), base},
			{temporary(0), 2 * base},
			{temporary(500), 4 * base},
			{temporary(429), maxDelay},
			{temporary(502), maxDelay},
		}
		for i, s := range steps {
			fake.FailNext(1, s.res)
			now := c.Now()
			if n := dispatch(t, d, 10); n != 1 {
				t.Fatalf("attempt %d: took %d rows, want 1", i+1, n)
			}
			got := delivery(t, db, row.ID)
			if got.Status != models.DeliveryPending || got.Attempts != i+1 || got.LastError != s.res.Err.Error() || got.LeasedUntil != nil {
				t.Fatalf("after attempt %d: row = %+v, want PENDING with %d attempts, error %q, no lease", i+1, got, i+1, s.res.Err)
			}
			if lo, hi := now.Add(s.delay/2), now.Add(s.delay); got.NextAttemptAt.Before(lo) || got.NextAttemptAt.After(hi) {
				t.Fatalf("after attempt %d: next attempt at %v, want within [%v, %v]", i+1, got.NextAttemptAt, lo, hi)
			}
			as := attempts(t, db, row.ID)
			if len(as) != i+1 {
				t.Fatalf("after attempt %d: %d attempt rows", i+1, len(as))
			}
			a := as[i]
			switch {
			case s.res.StatusCode == 0 && a.StatusCode != nil:
				t.Errorf("attempt %d: status code %d, want none", i+1, *a.StatusCode)
			case s.res.StatusCode != 0 && (a.StatusCode == nil || *a.StatusCode != s.res.StatusCode):
				t.Errorf("attempt %d: status code %v, want %d", i+1, a.StatusCode, s.res.StatusCode)
			}
			if a.Error != s.res.Err.Error() || !a.AttemptedAt.Equal(now) {
				t.Errorf("attempt %d = %+v", i+1, a)
			}

			// Not retried before it is due, retried once it is.
			c.Set(got.NextAttemptAt.Add(-time.Microsecond))
			if n := dispatch(t, d, 10); n != 0 {
				t.Fatalf("after attempt %d: retried %v early", i+1, time.Microsecond)
			}
			c.Set(got.NextAttemptAt.Add(time.Microsecond))
		}
		if n := dispatch(t, d, 10); n != 1 {
			t.Fatalf("final retry took %d rows", n)
		}
		got := delivery(t, db, row.ID)
		if got.Status != models.DeliveryDelivered || got.Attempts != len(steps)+1 || got.LastError != "" {
			t.Errorf("after the final retry: %+v, want DELIVERED, %d attempts, error cleared", got, len(steps)+1)
		}
		if n := len(fake.Seen()); n != len(steps)+1 {
			t.Errorf("sent %d times, want %d", n, len(steps)+1)
		}
	})
}

// TestBackoffIsJittered: rows failing together are spread over [d/2, d] of
// their delay, not retried at one moment; the delay stops at BackoffMax
// however many attempts came before.
func TestBackoffIsJittered(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const base, maxDelay, perCase = 10 * time.Second, 60 * time.Second, 20
		c := fakeclock.At(t0)
		now := c.Now()
		fake := newFake()
		d, _ := newDispatcher(t, db, c, outbox.Config{BackoffBase: base, BackoffMax: maxDelay},
			map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})
		cases := []struct {
			before int // failed attempts before this one
			delay  time.Duration
		}{{0, base}, {2, 4 * base}, {3, maxDelay}, {5, maxDelay}, {80, maxDelay}}
		ids := make([][]uuid.UUID, len(cases))
		for i, tc := range cases {
			for range perCase {
				row := due(models.ChannelWebhook, now)
				row.Attempts = tc.before
				row.GiveUpAt = now.Add(365 * 24 * time.Hour)
				insert(t, db, row)
				ids[i] = append(ids[i], row.ID)
			}
		}
		fake.FailNext(len(cases)*perCase, temporary(503))
		if n := dispatch(t, d, 1000); n != len(cases)*perCase {
			t.Fatalf("took %d rows", n)
		}
		for i, tc := range cases {
			distinct := map[time.Time]bool{}
			for _, id := range ids[i] {
				got := delivery(t, db, id)
				if got.Status != models.DeliveryPending || got.Attempts != tc.before+1 {
					t.Fatalf("after %d failures: %+v", tc.before+1, got)
				}
				if lo, hi := now.Add(tc.delay/2), now.Add(tc.delay); got.NextAttemptAt.Before(lo) || got.NextAttemptAt.After(hi) {
					t.Errorf("after %d failures: next attempt in %v, want within [%v, %v]",
						tc.before+1, got.NextAttemptAt.Sub(now), tc.delay/2, tc.delay)
				}
				distinct[got.NextAttemptAt.UTC()] = true
			}
			if len(distinct) < 2 {
				t.Errorf("after %d failures: %d rows retried at %d distinct moments, want jitter", tc.before+1, perCase, len(distinct))
			}
		}
	})
}

// TestFailsForGood: a refusal fails the row at once, as does a failure whose
// retry would fall past the window; a row whose window ended while no
// dispatcher ran still gets its one attempt.
func TestFailsForGood(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const base = 10 * time.Second
		c := fakeclock.At(t0)
		now := c.Now()
		fake := newFake()
		d, _ := newDispatcher(t, db, c, outbox.Config{BackoffBase: base, BackoffMax: time.Hour},
			map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})

		cases := []struct {
			name         string
			nextAt       time.Time
			giveUpAt     time.Time
			attempts     int
			res          outbox.Result
			wantStatus   models.DeliveryStatus
			wantAttempts int
		}{
			{"permanent refusal", now, now.Add(24 * time.Hour), 0, permanent(410), models.DeliveryFailed, 1},
			{"permanent refusal without status", now, now.Add(24 * time.Hour), 2, outbox.Result{Err: errNoSuchMailbox, Permanent: true}, models.DeliveryFailed, 3},
			{"retry past the window", now, now.Add(base / 2).Add(-time.Millisecond), 0, temporary(503), models.DeliveryFailed, 1},
			{"retry inside the window", now, now.Add(24 * time.Hour), 0, temporary(503), models.DeliveryPending, 1},
			{"window ended unattended, fails", now.Add(-2 * time.Hour), now.Add(-time.Hour), 3, temporary(503), models.DeliveryFailed, 4},
			{"window ended unattended, delivered", now.Add(-2 * time.Hour), now.Add(-time.Hour), 3, outbox.Result{}, models.DeliveryDelivered, 4},
		}
		rows := make([]models.Delivery, len(cases))
		for i, tc := range cases {
			rows[i] = due(models.ChannelWebhook, tc.nextAt)
			rows[i].GiveUpAt, rows[i].Attempts = tc.giveUpAt, tc.attempts
			if tc.res.Err != nil {
				fake.FailFor(rows[i].ID, tc.res)
			}
		}
		insert(t, db, rows...)
		if n := dispatch(t, d, 100); n != len(cases) {
			t.Fatalf("took %d rows, want %d", n, len(cases))
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := delivery(t, db, rows[i].ID)
				if got.Status != tc.wantStatus || got.Attempts != tc.wantAttempts {
					t.Errorf("row = %+v, want %s after %d attempts", got, tc.wantStatus, tc.wantAttempts)
				}
				if n := len(fake.Messages(rows[i].ID)); n != 1 {
					t.Errorf("sent %d times, want once", n)
				}
				as := attempts(t, db, rows[i].ID)
				if len(as) != 1 {
					t.Fatalf("%d attempt rows, want 1", len(as))
				}
				if tc.res.StatusCode != 0 && (as[0].StatusCode == nil || *as[0].StatusCode != tc.res.StatusCode) {
					t.Errorf("attempt status %v, want %d", as[0].StatusCode, tc.res.StatusCode)
				}
				switch tc.wantStatus {
				case models.DeliveryFailed:
					if got.LastError != tc.res.Err.Error() || got.DeliveredAt != nil {
						t.Errorf("failed row = %+v, want its error kept and no delivered_at", got)
					}
				case models.DeliveryDelivered:
					if got.DeliveredAt == nil || !got.DeliveredAt.Equal(now) {
						t.Errorf("delivered_at = %v, want %v", got.DeliveredAt, now)
					}
				}
			})
		}
		// Nothing failed is taken again, however late it gets.
		c.Advance(48 * time.Hour)
		before := len(fake.Seen())
		if n := dispatch(t, d, 100); n != 1 {
			t.Errorf("a day later took %d rows, want only the pending one", n)
		}
		if got := fake.Seen()[before:]; len(got) != 1 || got[0] != rows[3].ID {
			t.Errorf("a day later sent %v, want only %s", got, rows[3].ID)
		}
	})
}

var errNoSuchMailbox = &mailboxError{}

type mailboxError struct{}

func (*mailboxError) Error() string { return "550 no such mailbox" }

// TestCatchUpOldestFirst: rows that fell due while nothing ran are all
// delivered, oldest first, however many passes it takes.
func TestCatchUpOldestFirst(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const rows, batch = 250, 100
		c := fakeclock.At(t0)
		now := c.Now()
		fake := newFake()
		// One send at a time, so the sender sees the order the rows were leased in.
		d, _ := newDispatcher(t, db, c, outbox.Config{Concurrency: 1}, map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})
		ds := make([]models.Delivery, rows)
		dueAt := map[uuid.UUID]time.Time{}
		for i := range ds {
			// Inserted in a shuffled order of due times: the table's order
			// must not matter.
			at := now.Add(-time.Duration((i*7919)%rows+1) * time.Minute)
			ds[i] = due(models.ChannelWebhook, at)
			ds[i].CreatedAt = at
			dueAt[ds[i].ID] = at
		}
		insert(t, db, ds...)

		var batches [][]uuid.UUID
		for {
			before := len(fake.Seen())
			n := dispatch(t, d, batch)
			if n == 0 {
				break
			}
			if n > batch {
				t.Fatalf("took %d rows, more than the %d asked", n, batch)
			}
			batches = append(batches, fake.Seen()[before:])
		}
		if len(batches) != 3 || len(batches[0]) != 100 || len(batches[1]) != 100 || len(batches[2]) != 50 {
			t.Fatalf("batches of %v, want 100, 100, 50", lens(batches))
		}
		var prev time.Time
		for b, ids := range batches {
			for i, id := range ids {
				if at := dueAt[id]; at.Before(prev) {
					t.Fatalf("batch %d, send %d: due at %v after one due at %v", b, i, at, prev)
				} else {
					prev = at
				}
			}
		}
		if n := count(t, db, &models.Delivery{}, "status = ?", models.DeliveryDelivered); n != rows {
			t.Errorf("%d delivered, want %d", n, rows)
		}
		if n := count(t, db, &models.DeliveryAttempt{}, ""); n != rows {
			t.Errorf("%d attempt rows, want %d", n, rows)
		}
		if seen := fake.Seen(); len(seen) != rows {
			t.Errorf("%d sends, want %d", len(seen), rows)
		}
	})
}

func lens(bs [][]uuid.UUID) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = len(b)
	}
	return out
}
