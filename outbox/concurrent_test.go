package outbox_test

import (
	"context"
	"cpor/testkit/fakeclock"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage"
	"cpor/storage/storagetest"
)

// TestTwoInstancesDeliverEachRowOnce: two dispatchers running on one
// PostgreSQL database (SKIP LOCKED between them) deliver every row exactly
// once, none failed. PostgreSQL only: on SQLite one process runs one
// dispatcher.
func TestTwoInstancesDeliverEachRowOnce(t *testing.T) {
	const rows = 500
	db := storagetest.Open(t, storage.Postgres)
	c := fakeclock.At(t0)
	ds := make([]models.Delivery, rows)
	for i := range ds {
		ds[i] = due(models.ChannelWebhook, c.Now().Add(-time.Duration(i)*time.Second))
	}
	insert(t, db, ds...)

	fakes := []*fakeSender{newFake(), newFake()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, len(fakes))
	for _, f := range fakes {
		f.Sleep(time.Millisecond)
		d, _ := newDispatcher(t, db, c, outbox.Config{Interval: 5 * time.Millisecond},
			map[models.Channel]outbox.Sender{models.ChannelWebhook: f})
		go func() { stopped <- d.Run(ctx) }()
	}
	waitFor(t, "every row delivered", func() bool {
		return count(t, db, &models.Delivery{}, "status <> ?", models.DeliveryPending) == rows
	})
	cancel()
	for range fakes {
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a dispatcher did not stop")
		}
	}

	sent := map[uuid.UUID]int{}
	for i, f := range fakes {
		seen := f.Seen()
		t.Logf("dispatcher %d sent %d", i, len(seen))
		for _, id := range seen {
			sent[id]++
		}
	}
	for _, d := range ds {
		if sent[d.ID] != 1 {
			t.Errorf("delivery %s sent %d times, want once", d.ID, sent[d.ID])
		}
	}
	if len(sent) != rows {
		t.Errorf("%d distinct deliveries sent, want %d", len(sent), rows)
	}
	if n := count(t, db, &models.Delivery{}, "status = ? AND attempts = 1", models.DeliveryDelivered); n != rows {
		t.Errorf("%d rows delivered after one attempt, want %d", n, rows)
	}
	if n := count(t, db, &models.DeliveryAttempt{}, ""); n != rows {
		t.Errorf("%d attempt rows, want %d", n, rows)
	}
	if n := count(t, db, &models.Delivery{}, "status = ?", models.DeliveryFailed); n != 0 {
		t.Errorf("%d rows failed", n)
	}
}
