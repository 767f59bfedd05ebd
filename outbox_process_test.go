package main

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/smtpcatch"
)

// The outbox as real server processes run it, on PostgreSQL: killed
// (SIGKILL) in the middle of a dispatch batch and started again, nothing
// is lost; two instances sharing the database send each delivery once.

// queueMail writes n notifications for the reviewers in one transaction;
// Rita, who wants e-mail at once, gets n deliveries.
func queueMail(t *testing.T, w *testkit.World, n int) []models.Delivery {
	t.Helper()
	ns := make([]models.Notification, n)
	for i := range ns {
		ns[i] = models.Notification{ID: uuid.New(), Audience: models.AudienceReviewers, Kind: models.NotifySubmitted,
			Title: fmt.Sprintf("New claim to review #%d", i), Body: "A partner submitted a claim."}
	}
	err := storage.InTx(context.Background(), w.DB, func(tx *storage.Tx) error { return w.Services().Notices.Write(tx, ns...) })
	if err != nil {
		t.Fatal(err)
	}
	var ds []models.Delivery
	w.DB.Where("channel = ? AND status = ?", models.ChannelEmail, models.DeliveryPending).Find(&ds)
	if len(ds) < n {
		t.Fatalf("%d pending e-mails after queueing %d", len(ds), n)
	}
	return ds
}

// mailEnv points a server process at the catcher, with a short lease so a
// killed instance's deliveries come back quickly.
func mailEnv(c *smtpcatch.Server) []string {
	return []string{
		"CPOR_SMTP_HOST=127.0.0.1", "CPOR_SMTP_PORT=" + strconv.Itoa(c.Port), "CPOR_SMTP_SECURITY=none",
		"CPOR_MAIL_FROM=CPOR <cpor@example.test>", "CPOR_OUTBOX_CONCURRENCY=4", "CPOR_OUTBOX_INTERVAL=100ms",
		"CPOR_WEBHOOK_TIMEOUT=1s", "CPOR_OUTBOX_LEASE=8s", "CPOR_OUTBOX_BACKOFF_BASE=1s", "CPOR_OUTBOX_BACKOFF_MAX=2s",
	}
}

// waitDelivered waits until none of ds is pending.
func waitDelivered(t *testing.T, db *gorm.DB, ds []models.Delivery, within time.Duration) {
	t.Helper()
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID.String()
	}
	deadline := time.Now().Add(within)
	for {
		var left int64
		db.Model(&models.Delivery{}).Where("id IN ? AND status <> ?", ids, models.DeliveryDelivered).Count(&left)
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries not delivered after %s", left, len(ds), within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// received counts the catcher's messages by Message-ID.
func received(c *smtpcatch.Server) map[string]int {
	out := map[string]int{}
	for _, m := range c.Messages() {
		out[m.MessageID]++
	}
	return out
}

func TestSIGKILLMidDispatchLosesNothing(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	catcher, err := smtpcatch.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	// Slow enough that the kill finds sends in flight.
	catcher.Slow(150 * time.Millisecond)
	// Written while no instance runs: the first one catches up.
	ds := queueMail(t, w, 40)

	first := startServer(t, w.Storage, mailEnv(catcher)...)
	if !catcher.Wait(5, 30*time.Second) {
		t.Fatalf("the first instance sent nothing:\n%s", first.logs.String())
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	var inFlight int64
	w.DB.Model(&models.Delivery{}).Where("status = ? AND leased_until IS NOT NULL", models.DeliveryPending).Count(&inFlight)
	t.Logf("killed after %d messages; %d deliveries were leased, mid-send", len(catcher.Messages()), inFlight)

	catcher.Slow(0)
	second := startServer(t, w.Storage, mailEnv(catcher)...)
	waitDelivered(t, w.DB, ds, 60*time.Second)
	_ = second.cmd.Process.Signal(syscall.SIGTERM)
	second.waitExit(t)

	got := received(catcher)
	dupes := 0
	for _, d := range ds {
		n := got["<"+d.ID.String()+"@cpor>"]
		if n == 0 {
			t.Errorf("delivery %s never arrived", d.ID)
		}
		dupes += max(n-1, 0)
	}
	// Only what was mid-send when the process died may come twice, under
	// the same Message-ID.
	if dupes > 4 {
		t.Errorf("%d duplicates; at most the 4 sends in flight may repeat", dupes)
	}
}

func TestTwoInstancesSendEachDeliveryOnce(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	catcher, err := smtpcatch.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	a := startServer(t, w.Storage, mailEnv(catcher)...)
	b := startServer(t, w.Storage, mailEnv(catcher)...)
	ds := queueMail(t, w, 200)
	waitDelivered(t, w.DB, ds, 60*time.Second)
	for _, p := range []*serverProcess{a, b} {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		p.waitExit(t)
	}
	got := received(catcher)
	for _, d := range ds {
		if n := got["<"+d.ID.String()+"@cpor>"]; n != 1 {
			t.Errorf("delivery %s arrived %d times", d.ID, n)
		}
	}
	ids := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	var attempts int64
	w.DB.Model(&models.DeliveryAttempt{}).Where("delivery_id IN ?", ids).Count(&attempts)
	if attempts != int64(len(ds)) {
		t.Errorf("%d attempts recorded for %d deliveries", attempts, len(ds))
	}
}
