package webhooks_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/demo"
	"cpor/models"
	"cpor/outbox"
	"cpor/storage"
	"cpor/testkit"
	"cpor/webhooks"
)

const senderTimeout = 300 * time.Millisecond

// wantRefusedAtDial: the send fails for good at the dialer, which checks
// each connection's address, and the receiver sees nothing at all.
func wantRefusedAtDial(t *testing.T, w *testkit.World, rc *receiver, m outbox.Message) {
	t.Helper()
	res := newSender(w, rc, webhooks.URLPolicy{}, 0).Send(context.Background(), m)
	if res.Err == nil || !res.Permanent || !strings.Contains(res.Err.Error(), "refused to connect") {
		t.Fatalf("result %+v", res)
	}
	if n, c := len(rc.requests()), rc.conns.Load(); n != 0 || c != 0 {
		t.Errorf("receiver hit %d times over %d connections", n, c)
	}
}

func newSender(w *testkit.World, rc *receiver, policy webhooks.URLPolicy, disableAfter time.Duration) *webhooks.Sender {
	cfg := webhooks.SenderConfig{Timeout: senderTimeout, DisableAfter: disableAfter}
	if rc != nil {
		cfg.TLS = rc.tls()
	}
	return webhooks.NewSender(w.DB, policy, cfg, nil, w.Services().Notices, nil)
}

var allowPrivate = webhooks.URLPolicy{AllowPrivate: true}

// TestSender sends to real TLS receivers on loopback. The sending does
// not depend on the database's kind, so one SQLite world serves.
func TestSender(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	contoso := demo.Contoso
	payload := `{"type":"claim.submitted","data":{"n":1}}`
	// setup is a receiver trusting a fresh endpoint's secret, the endpoint
	// and a delivery to it.
	setup := func(t *testing.T) (*receiver, models.WebhookEndpoint, outbox.Message) {
		rc := newReceiver(t)
		e := insertEndpoint(t, w.DB, &contoso, rc.srv.URL+"/hooks/cpor?k=1", ",CLAIM_SUBMITTED,")
		rc.trust(e.Secret)
		return rc, e, outbox.Message{Delivery: insertDelivery(t, w.DB, e.ID, models.DeliveryPending, payload)}
	}

	t.Run("accepted", func(t *testing.T) {
		rc, _, m := setup(t)
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if res.Err != nil || res.StatusCode != http.StatusOK || res.Permanent {
			t.Fatalf("result %+v", res)
		}
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests", len(got))
		}
		r := got[0]
		if r.verified != nil {
			t.Errorf("receiver could not verify: %v", r.verified)
		}
		if id := r.header.Get("webhook-id"); id != m.Delivery.ID.String() {
			t.Errorf("webhook-id %q, want the delivery's ID %s", id, m.Delivery.ID)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if string(r.body) != payload {
			t.Errorf("body %q, want the payload", r.body)
		}
		ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
			t.Errorf("webhook-timestamp %q", r.header.Get("webhook-timestamp"))
		}
		if r.header.Get("User-Agent") == "" || len(strings.Fields(r.header.Get("webhook-signature"))) != 1 {
			t.Errorf("headers %v", r.header)
		}
	})

	t.Run("receiver error is temporary", func(t *testing.T) {
		rc, _, m := setup(t)
		rc.answering(func(_ int, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		})
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if res.Err == nil || res.Permanent || res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("result %+v", res)
		}
	})

	t.Run("redirect is a failure, not followed", func(t *testing.T) {
		rc, _, m := setup(t)
		rc.answering(func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		})
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if res.Err == nil || res.StatusCode != http.StatusFound {
			t.Fatalf("result %+v", res)
		}
		if n := len(rc.requests()); n != 1 {
			t.Errorf("receiver saw %d requests; the redirect was followed", n)
		}
	})

	t.Run("wrong secret is refused by the receiver", func(t *testing.T) {
		rc, _, m := setup(t)
		other, _ := webhooks.NewSecret()
		rc.trust(other)
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if res.Err == nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("result %+v", res)
		}
	})

	t.Run("slow receiver times out promptly", func(t *testing.T) {
		rc, _, m := setup(t)
		rc.answering(func(_ int, w http.ResponseWriter, r *http.Request) { stall(w, r) })
		start := time.Now()
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		took := time.Since(start)
		if res.Err == nil || res.Permanent || res.StatusCode != 0 {
			t.Fatalf("result %+v", res)
		}
		if took > senderTimeout+time.Second {
			t.Errorf("Send took %v with a timeout of %v", took, senderTimeout)
		}
	})

	t.Run("disabled endpoint is permanent", func(t *testing.T) {
		rc, e, m := setup(t)
		if err := w.DB.Model(&e).Update("disabled_at", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if res.Err == nil || !res.Permanent {
			t.Fatalf("result %+v", res)
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("receiver hit %d times", n)
		}
	})

	t.Run("deleted endpoint is permanent", func(t *testing.T) {
		rc, e, m := setup(t)
		if err := w.DB.Delete(&models.WebhookEndpoint{}, "id = ?", e.ID).Error; err != nil {
			t.Fatal(err)
		}
		for _, recipient := range []string{e.ID.String(), uuid.NewString(), "not-an-id"} {
			m.Delivery.Recipient = recipient
			res := newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
			if res.Err == nil || !res.Permanent {
				t.Fatalf("recipient %q: result %+v", recipient, res)
			}
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("receiver hit %d times", n)
		}
	})

	t.Run("localhost, resolving to 127.0.0.1, refused at dial", func(t *testing.T) {
		// localhost resolves to loopback on every machine; registration
		// refuses the name, so the row is written directly, as if it had
		// passed then: only the check of each connection's address stops it.
		rc, e, m := setup(t)
		_, port, _ := net.SplitHostPort(rc.srv.Listener.Addr().String())
		if err := w.DB.Model(&e).Update("url", "https://localhost:"+port+"/hooks").Error; err != nil {
			t.Fatal(err)
		}
		wantRefusedAtDial(t, w, rc, m)
	})

	t.Run("name resolving inward refused at dial", func(t *testing.T) {
		// A name that passes the URL rules (it looked public when
		// registered) but resolves to loopback now: only the check of each
		// connection's address stops it.
		host := inwardName(t)
		rc, e, m := setup(t)
		_, port, _ := net.SplitHostPort(rc.srv.Listener.Addr().String())
		u := "https://" + net.JoinHostPort(host, port) + "/hooks"
		if err := (webhooks.URLPolicy{}).Check(u); err != nil {
			t.Fatalf("%s should pass the URL rules: %v", u, err)
		}
		if err := w.DB.Model(&e).Update("url", u).Error; err != nil {
			t.Fatal(err)
		}
		wantRefusedAtDial(t, w, rc, m)
		// The same with private hosts allowed connects (the TLS name check
		// then fails, as the test certificate does not name the host).
		newSender(w, rc, allowPrivate, 0).Send(context.Background(), m)
		if rc.conns.Load() == 0 {
			t.Errorf("with AllowPrivate the sender did not connect to %s", u)
		}
	})

	t.Run("numeric forms of loopback never connect", func(t *testing.T) {
		// Forms of 127.0.0.1 that are not IP literals to the URL rules: a
		// resolver may still turn them into loopback, so the dial check
		// must catch what the URL rules let through.
		rc, e, m := setup(t)
		_, port, _ := net.SplitHostPort(rc.srv.Listener.Addr().String())
		for _, host := range []string{"127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.0.0.1.", "[::127.0.0.1]"} {
			u := "https://" + host + ":" + port + "/hooks"
			if err := w.DB.Model(&e).Update("url", u).Error; err != nil {
				t.Fatal(err)
			}
			if res := newSender(w, rc, webhooks.URLPolicy{}, 0).Send(context.Background(), m); res.Err == nil {
				t.Errorf("%s: delivered", u)
			}
		}
		if n, c := len(rc.requests()), rc.conns.Load(); n != 0 || c != 0 {
			t.Errorf("receiver hit %d times over %d connections", n, c)
		}
	})

	t.Run("rotation signs with both secrets", func(t *testing.T) {
		rc := newReceiver(t)
		svc := webhooks.New(w.DB, allowPrivate, 0, nil)
		e, oldSecret := register(t, svc, "ada", rc.srv.URL+"/hooks")
		_, newSecret, err := svc.RotateSecret(testkit.As("ada"), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := outbox.Message{Delivery: insertDelivery(t, w.DB, e.ID, models.DeliveryPending, payload)}
		s := newSender(w, rc, allowPrivate, 0)
		for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
			rc.trust(secret)
			if res := s.Send(context.Background(), m); res.Err != nil {
				t.Errorf("receiver knowing only the %s secret: %+v", name, res)
			}
		}
		for _, r := range rc.requests() {
			if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
				t.Errorf("%d signatures during the rotation, want 2", n)
			}
		}
		// Once the overlap ends, the old secret no longer signs.
		if err := w.DB.Model(&models.WebhookEndpoint{}).Where("id = ?", e.ID).
			Update("previous_secret_until", time.Now().Add(-time.Second)).Error; err != nil {
			t.Fatal(err)
		}
		rc.trust(oldSecret)
		if res := s.Send(context.Background(), m); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("after the overlap, the old secret still verifies: %+v", res)
		}
	})
}

// inwardName finds a host name that passes the URL rules but resolves
// only to addresses deliveries may not reach (here: /etc/hosts names of
// loopback), or skips.
func inwardName(t *testing.T) string {
	t.Helper()
	candidates := []string{"localhost.localdomain", "ip6-localhost", "ip6-loopback", "vm", "runsc"}
	if h, err := os.Hostname(); err == nil {
		candidates = append([]string{h}, candidates...)
	}
	for _, h := range candidates {
		if (webhooks.URLPolicy{}).Check("https://"+h+"/") != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, h)
		cancel()
		if err != nil || len(addrs) == 0 {
			continue
		}
		inward := true
		for _, a := range addrs {
			ip := net.ParseIP(a)
			inward = inward && ip != nil && ip.IsLoopback()
		}
		if inward {
			return h
		}
	}
	t.Skip("no host name here resolves to loopback while passing the URL rules")
	return ""
}

// TestSettle keeps an endpoint's health: on both databases, as it locks
// the endpoint in the attempt's transaction.
func TestSettle(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		const disableAfter = time.Hour
		s := newSender(w, nil, allowPrivate, disableAfter)
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		failed := outbox.Result{StatusCode: 500, Err: errString("the receiver answered 500")}
		ok := outbox.Result{StatusCode: 200}
		settle := func(t *testing.T, e models.WebhookEndpoint, r outbox.Result, now time.Time) models.WebhookEndpoint {
			t.Helper()
			m := outbox.Message{Delivery: models.Delivery{ID: uuid.New(), Channel: models.ChannelWebhook, Recipient: e.ID.String()}}
			if err := storage.InTx(context.Background(), w.DB, func(tx *storage.Tx) error {
				return s.Settle(tx, m, r, false, now)
			}); err != nil {
				t.Fatalf("settle: %v", err)
			}
			return endpointRow(t, w.DB, e.ID)
		}
		disabledNotices := func(t *testing.T) []models.Notification {
			t.Helper()
			var ns []models.Notification
			if err := w.DB.Where("kind = ?", models.NotifyWebhookDisabled).Order("created_at").Find(&ns).Error; err != nil {
				t.Fatal(err)
			}
			return ns
		}

		t.Run("failing since", func(t *testing.T) {
			e := insertEndpoint(t, w.DB, &demo.Contoso, "https://hooks.example.com/a", ",CLAIM_SUBMITTED,")
			if got := settle(t, e, failed, t0); got.FailingSince == nil || !sameTime(*got.FailingSince, t0) {
				t.Fatalf("after a failure: failing since %v, want %v", got.FailingSince, t0)
			}
			if got := settle(t, e, failed, t0.Add(10*time.Minute)); got.FailingSince == nil || !sameTime(*got.FailingSince, t0) {
				t.Fatalf("after a second failure: failing since %v, want still %v", got.FailingSince, t0)
			}
			if got := settle(t, e, ok, t0.Add(20*time.Minute)); got.FailingSince != nil || got.DisabledAt != nil {
				t.Fatalf("after a success: failing since %v, disabled %v", got.FailingSince, got.DisabledAt)
			}
			t1 := t0.Add(30 * time.Minute)
			if got := settle(t, e, failed, t1); got.FailingSince == nil || !sameTime(*got.FailingSince, t1) {
				t.Fatalf("failing again: since %v, want %v", got.FailingSince, t1)
			}
		})

		t.Run("disabled after DisableAfter, owner told", func(t *testing.T) {
			before := len(disabledNotices(t))
			e := insertEndpoint(t, w.DB, &demo.Contoso, "https://hooks.example.com/b", ",CLAIM_SUBMITTED,")
			settle(t, e, failed, t0)
			if got := settle(t, e, failed, t0.Add(disableAfter-time.Second)); got.DisabledAt != nil {
				t.Fatalf("disabled before DisableAfter")
			}
			if len(disabledNotices(t)) != before {
				t.Fatalf("told before DisableAfter")
			}
			at := t0.Add(disableAfter)
			got := settle(t, e, failed, at)
			if got.DisabledAt == nil || !sameTime(*got.DisabledAt, at) || got.DisabledReason == "" {
				t.Fatalf("at DisableAfter: disabled %v (%q)", got.DisabledAt, got.DisabledReason)
			}
			ns := disabledNotices(t)
			if len(ns) != before+1 {
				t.Fatalf("%d WEBHOOK_DISABLED notifications, want %d", len(ns), before+1)
			}
			n := ns[len(ns)-1]
			if n.Audience != models.AudiencePartnerAdmins || n.AudienceID == nil || *n.AudienceID != demo.Contoso ||
				!strings.Contains(n.Body, e.URL) {
				t.Errorf("notice %+v", n)
			}
			// Further failures of a disabled endpoint change nothing and
			// tell no one again.
			if again := settle(t, e, failed, at.Add(time.Hour)); again.DisabledAt == nil || !sameTime(*again.DisabledAt, at) {
				t.Errorf("disabled at moved to %v", again.DisabledAt)
			}
			if len(disabledNotices(t)) != before+1 {
				t.Errorf("told twice")
			}
		})

		t.Run("operators told of their endpoint", func(t *testing.T) {
			before := len(disabledNotices(t))
			e := insertEndpoint(t, w.DB, nil, "https://hooks.example.com/ops", ",CLAIM_SUBMITTED,")
			settle(t, e, failed, t0)
			if got := settle(t, e, failed, t0.Add(2*disableAfter)); got.DisabledAt == nil {
				t.Fatalf("not disabled")
			}
			ns := disabledNotices(t)
			if len(ns) != before+1 {
				t.Fatalf("%d notifications, want %d", len(ns), before+1)
			}
			if n := ns[len(ns)-1]; n.Audience != models.AudienceOperators || n.AudienceID != nil {
				t.Errorf("notice to %s %v, want OPERATORS", n.Audience, n.AudienceID)
			}
		})

		t.Run("deleted endpoint", func(t *testing.T) {
			e := models.WebhookEndpoint{ID: uuid.New()}
			m := outbox.Message{Delivery: models.Delivery{Recipient: e.ID.String()}}
			for _, r := range []outbox.Result{failed, ok} {
				if err := storage.InTx(context.Background(), w.DB, func(tx *storage.Tx) error {
					return s.Settle(tx, m, r, true, t0)
				}); err != nil {
					t.Errorf("settle for a deleted endpoint: %v", err)
				}
			}
		})
	})
}

type errString string

func (e errString) Error() string { return string(e) }
