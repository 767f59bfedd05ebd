package webhooks_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"cpor/models"
	"cpor/outbox"
	"cpor/testkit"
	"cpor/webhooks"
)

// TestEndToEnd: a claim submitted reaches a subscribed receiver through the
// outbox, retried through errors and a timeout under the same webhook-id,
// and reaches no other organisation's endpoint.
func TestEndToEnd(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		contosoRC, fabrikamRC := newReceiver(t), newReceiver(t)
		svc := webhooks.New(w.DB, allowPrivate, 0, w.Clock.Now)
		e, secret := register(t, svc, "ada", contosoRC.srv.URL+"/cpor", models.NotifySubmitted)
		f, fSecret := register(t, svc, "fiona", fabrikamRC.srv.URL+"/cpor", models.NotifySubmitted)
		contosoRC.trust(secret)
		fabrikamRC.trust(fSecret)
		contosoRC.answering(func(n int, w http.ResponseWriter, r *http.Request) {
			switch n {
			case 1, 2:
				http.Error(w, "down", http.StatusInternalServerError)
			case 3:
				stall(w, r)
			default:
				w.WriteHeader(http.StatusNoContent)
			}
		})
		// Receivers share one certificate authority, so one client
		// configuration trusts both.
		sender := webhooks.NewSender(w.DB, allowPrivate, webhooks.SenderConfig{Timeout: senderTimeout, TLS: contosoRC.tls()},
			nil, w.Services().Notices, nil)
		d, err := outbox.New(w.DB, outbox.Config{
			Clock: w.Clock.Now, BackoffBase: time.Second, BackoffMax: 4 * time.Second,
			AttemptTimeout: 2 * time.Second, Lease: 10 * time.Second,
		}, map[models.Channel]outbox.Sender{models.ChannelWebhook: sender}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}

		claim := testkit.SubmitFreshClaim(t, w, "ada", "whendtoend")
		ds := webhookDeliveries(t, w.DB, e.ID)
		if len(ds) != 1 {
			t.Fatalf("%d deliveries to Contoso's endpoint, want 1", len(ds))
		}
		delivery := ds[0]
		if !strings.Contains(delivery.Payload, claim.String()) {
			t.Errorf("payload %s does not name the claim", delivery.Payload)
		}

		for round := 1; round <= 4; round++ {
			n, err := d.DispatchDue(context.Background(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("round %d: %d deliveries sent, want 1", round, n)
			}
			w.Clock.Advance(5 * time.Second) // past BackoffMax
		}
		if n, err := d.DispatchDue(context.Background(), 10); err != nil || n != 0 {
			t.Fatalf("after delivery: %d sent, %v", n, err)
		}

		got := deliveryRow(t, w.DB, delivery.ID)
		if got.Status != models.DeliveryDelivered || got.Attempts != 4 || got.DeliveredAt == nil {
			t.Fatalf("delivery %s after %d attempts (delivered %v)", got.Status, got.Attempts, got.DeliveredAt)
		}
		page, err := svc.Deliveries(testkit.As("ada"), e.ID, relayAll())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("%d deliveries listed", len(page.Items))
		}
		var codes []int
		for _, a := range page.Items[0].Attempts {
			c := 0
			if a.StatusCode != nil {
				c = *a.StatusCode
			}
			codes = append(codes, c)
		}
		if len(codes) != 4 || codes[0] != 500 || codes[1] != 500 || codes[2] != 0 || codes[3] != http.StatusNoContent {
			t.Errorf("attempt status codes %v, want [500 500 none 204]", codes)
		}
		if a := page.Items[0].Attempts; len(a) == 4 && a[2].Error == "" {
			t.Errorf("the timed-out attempt records no error")
		}

		reqs := contosoRC.requests()
		if len(reqs) != 4 {
			t.Fatalf("receiver saw %d requests, want 4", len(reqs))
		}
		for i, r := range reqs {
			if r.verified != nil {
				t.Errorf("request %d did not verify: %v", i+1, r.verified)
			}
			if id := r.header.Get(webhooks.HeaderID); id != delivery.ID.String() {
				t.Errorf("request %d has webhook-id %q, want %s", i+1, id, delivery.ID)
			}
			if string(r.body) != delivery.Payload {
				t.Errorf("request %d body differs from the stored payload", i+1)
			}
		}
		if ep := endpointRow(t, w.DB, e.ID); ep.FailingSince != nil || ep.DisabledAt != nil {
			t.Errorf("endpoint after success: failing since %v, disabled %v", ep.FailingSince, ep.DisabledAt)
		}

		if n := len(fabrikamRC.requests()); n != 0 {
			t.Errorf("Fabrikam's receiver saw %d requests of Contoso's claim", n)
		}
		if n := len(webhookDeliveries(t, w.DB, f.ID)); n != 0 {
			t.Errorf("%d deliveries to Fabrikam's endpoint", n)
		}
	})
}
