package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cpor/mail"
	"cpor/models"
	"cpor/outbox"
	"cpor/testkit"
	"cpor/testkit/smtpcatch"
)

// TestEmailSurvivesAMailServerOutage: notifications written while the
// mail server refuses, drops connections and answers too slowly are all
// delivered once it is back, each under its own Message-ID; a message the
// server took after the sender had given up on it comes again with the
// same Message-ID, which is how a receiver drops the duplicate.
func TestEmailSurvivesAMailServerOutage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		catcher, err := smtpcatch.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer catcher.Close()
		mailer, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: catcher.Port, Security: mail.SecurityNone,
			From: "CPOR <cpor@example.test>", AppURL: "https://cpor.example.test"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := outbox.New(w.DB, outbox.Config{
			Clock: w.Clock.Now, BackoffBase: time.Second, BackoffMax: 8 * time.Second,
			AttemptTimeout: 500 * time.Millisecond, Lease: 5 * time.Second,
		}, map[models.Channel]outbox.Sender{models.ChannelEmail: mailer}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Only what this test writes counts: the demo's own mail is sent first.
		drain(t, w, d)
		sent := len(catcher.Messages())

		for i := range 4 {
			testkit.SubmitFreshClaim(t, w, "ada", fmt.Sprintf("outage-%d", i))
		}
		var due []models.Delivery
		w.DB.Where("channel = ? AND status = ?", models.ChannelEmail, models.DeliveryPending).Find(&due)
		if len(due) == 0 {
			t.Fatal("the submissions e-mailed no one")
		}
		for _, fault := range []func(){
			func() { catcher.Set(smtpcatch.Refuse) },
			func() { catcher.Set(smtpcatch.Drop) },
			func() { catcher.Set(smtpcatch.Accept); catcher.Slow(time.Second) },
		} {
			fault()
			w.Clock.Advance(10 * time.Second)
			if _, err := d.DispatchDue(context.Background(), 100); err != nil {
				t.Fatal(err)
			}
		}
		var failedAttempts int64
		w.DB.Model(&models.DeliveryAttempt{}).Where("error <> ''").Count(&failedAttempts)
		if failedAttempts < int64(3*len(due)) {
			t.Errorf("%d failed attempts for %d deliveries over three faults", failedAttempts, len(due))
		}
		catcher.Slow(0)
		drain(t, w, d)

		byID := map[string]int{}
		for _, m := range catcher.Messages()[sent:] {
			byID[m.MessageID]++
		}
		for _, del := range due {
			var got models.Delivery
			w.DB.Take(&got, "id = ?", del.ID)
			if got.Status != models.DeliveryDelivered {
				t.Errorf("delivery %s is %s after the server came back (%s)", del.ID, got.Status, got.LastError)
			}
			if byID["<"+del.ID.String()+"@cpor>"] == 0 {
				t.Errorf("delivery %s never reached the server", del.ID)
			}
		}
		for id := range byID {
			if !strings.HasSuffix(id, "@cpor>") {
				t.Errorf("a message with Message-ID %q is not a delivery's", id)
			}
		}
		if len(byID) != len(due) {
			t.Errorf("%d distinct messages for %d deliveries", len(byID), len(due))
		}
	})
}

// drain runs the dispatcher, moving the clock past every backoff, until no
// delivery is pending.
func drain(t *testing.T, w *testkit.World, d *outbox.Dispatcher) {
	t.Helper()
	for range 50 {
		var pending int64
		w.DB.Model(&models.Delivery{}).Where("status = ?", models.DeliveryPending).Count(&pending)
		if pending == 0 {
			return
		}
		if _, err := d.DispatchDue(context.Background(), 500); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(10 * time.Second)
	}
	t.Fatal("deliveries still pending after 50 passes")
}
