package outbox_test

import (
	"context"
	"cpor/testkit/fakeclock"
	"testing"
	"time"

	"gorm.io/gorm"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage/storagetest"
)

// TestDeadInstanceLeaseEnds: rows a dead dispatcher leased (as its lease
// statement left them) are left alone until the lease ends, then taken and
// delivered by another.
func TestDeadInstanceLeaseEnds(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const lease = 2 * time.Minute
		c := fakeclock.At(t0)
		now := c.Now()
		fake := newFake()
		d, _ := newDispatcher(t, db, c, outbox.Config{Lease: lease}, map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})

		orphans := []models.Delivery{due(models.ChannelWebhook, now), due(models.ChannelWebhook, now.Add(-time.Hour))}
		free := due(models.ChannelWebhook, now)
		insert(t, db, append(orphans, free)...)
		until := now.Add(lease)
		if err := db.Model(&models.Delivery{}).Where("id IN ?", []any{orphans[0].ID, orphans[1].ID}).
			Update("leased_until", until).Error; err != nil {
			t.Fatal(err)
		}

		if n := dispatch(t, d, 100); n != 1 {
			t.Fatalf("took %d rows, want only the one not leased", n)
		}
		c.Set(until.Add(-time.Microsecond))
		if n := dispatch(t, d, 100); n != 0 {
			t.Fatalf("took %d leased rows a microsecond before their lease ends", n)
		}
		for _, o := range orphans {
			if got := delivery(t, db, o.ID); got.Status != models.DeliveryPending || got.Attempts != 0 {
				t.Fatalf("leased row touched: %+v", got)
			}
		}
		c.Set(until)
		if n := dispatch(t, d, 100); n != len(orphans) {
			t.Fatalf("took %d rows once the lease ended, want %d", n, len(orphans))
		}
		for _, o := range orphans {
			got := delivery(t, db, o.ID)
			if got.Status != models.DeliveryDelivered || got.Attempts != 1 || got.LeasedUntil != nil || !got.DeliveredAt.Equal(until) {
				t.Errorf("orphan after the lease = %+v, want DELIVERED at %v after 1 attempt", got, until)
			}
		}
		if n := len(fake.Seen()); n != 3 {
			t.Errorf("%d sends, want 3", n)
		}
	})
}

// TestStaleLeaseRecordIsRefused: a dispatcher whose send outlived its lease
// cannot overwrite the row another dispatcher took and delivered meanwhile,
// nor add its attempt.
func TestStaleLeaseRecordIsRefused(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const lease = 2 * time.Minute
		c := fakeclock.At(t0)
		slow, fast := newFake(), newFake()
		cfg := outbox.Config{Lease: lease}
		a, _ := newDispatcher(t, db, c, cfg, map[models.Channel]outbox.Sender{models.ChannelWebhook: slow})
		b, _ := newDispatcher(t, db, c, cfg, map[models.Channel]outbox.Sender{models.ChannelWebhook: fast})
		row := due(models.ChannelWebhook, c.Now())
		insert(t, db, row)

		entered, release := slow.Block()
		defer release()
		// Were A's record to land, it would fail the row: visible.
		slow.FailFor(row.ID, permanent(410))
		done := make(chan error, 1)
		go func() {
			_, err := a.DispatchDue(context.Background(), 10)
			done <- err
		}()
		select {
		case <-entered:
		case err := <-done:
			t.Fatalf("A returned before sending: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("A never sent")
		}
		if n := dispatch(t, b, 10); n != 0 {
			t.Fatalf("B took %d rows under A's lease", n)
		}

		at := c.Advance(lease)
		if n := dispatch(t, b, 10); n != 1 {
			t.Fatalf("B took %d rows after A's lease ended, want 1", n)
		}
		release()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("A: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("A never returned")
		}

		got := delivery(t, db, row.ID)
		if got.Status != models.DeliveryDelivered || got.Attempts != 1 || got.LastError != "" || got.LeasedUntil != nil ||
			got.DeliveredAt == nil || !got.DeliveredAt.Equal(at) {
			t.Errorf("row = %+v, want B's record: DELIVERED at %v after 1 attempt", got, at)
		}
		as := attempts(t, db, row.ID)
		if len(as) != 1 || as[0].Error != "" || as[0].StatusCode != nil {
			t.Errorf("attempt rows %+v, want only B's successful one", as)
		}
		if len(slow.Seen()) != 1 || len(fast.Seen()) != 1 {
			t.Errorf("A sent %d times, B %d; want once each", len(slow.Seen()), len(fast.Seen()))
		}
	})
}

// TestRunWakesAndDrains: Run delivers promptly when woken, long before its
// interval, and once cancelled returns only after the send in flight is
// recorded.
func TestRunWakesAndDrains(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := fakeclock.At(t0)
		fake := newFake()
		d, reg := newDispatcher(t, db, c, outbox.Config{Interval: time.Hour}, map[models.Channel]outbox.Sender{models.ChannelWebhook: fake})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- d.Run(ctx) }()
		// Its first look done, Run counts the outbox and then waits an hour.
		waitFor(t, "the first look", func() bool {
			return series(t, reg, "cpor_outbox_pending", map[string]string{"channel": "WEBHOOK"}) != nil
		})

		first := due(models.ChannelWebhook, c.Now())
		insert(t, db, first)
		woken := time.Now()
		d.Wake()
		waitFor(t, "the woken delivery", func() bool {
			return delivery(t, db, first.ID).Status == models.DeliveryDelivered
		})
		if took := time.Since(woken); took > 5*time.Second {
			t.Errorf("delivered %v after the wake-up", took)
		}

		entered, release := fake.Block()
		defer release()
		second := due(models.ChannelWebhook, c.Now())
		insert(t, db, second)
		d.Wake()
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the second delivery was never sent")
		}
		cancel()
		select {
		case err := <-stopped:
			t.Fatalf("Run returned (%v) with a send in flight", err)
		case <-time.After(20 * time.Millisecond):
		}
		release()
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its send ended")
		}
		got := delivery(t, db, second.ID)
		if got.Status != models.DeliveryDelivered || got.Attempts != 1 || got.LeasedUntil != nil {
			t.Errorf("the send in flight at shutdown was recorded as %+v, want DELIVERED", got)
		}
		if n := len(fake.Seen()); n != 2 {
			t.Errorf("%d sends, want 2", n)
		}
	})
}
