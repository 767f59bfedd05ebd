package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cpor/models"
	"cpor/outbox"
	"cpor/testkit"
	"cpor/webhooks"
)

// The receiver of the README, verbatim (TestREADMEVerifierIsThisOne keeps
// the two the same).

// verify checks a CPOR webhook delivery: a fresh timestamp and a signature
// that is the HMAC-SHA256 of "id.timestamp.body" under the endpoint's secret.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sent, 0)).Abs() > 5*time.Minute {
		return errors.New("missing or stale timestamp")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if b64, ok := strings.CutPrefix(sig, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return nil // genuine; drop it if webhook-id was processed already
			}
		}
	}
	return errors.New("no valid signature")
}

func TestREADMEVerifierIsThisOne(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "<!-- verify example -->\n```go\n")
	block, _, _ = strings.Cut(block, "```\n<!-- end of verify example -->")
	self, err := os.ReadFile("webhook_receiver_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, mine, _ := strings.Cut(string(self), "// verify checks a CPOR webhook delivery")
	mine, _, _ = strings.Cut(mine, "\n}\n")
	if want := "// verify checks a CPOR webhook delivery" + mine + "\n}\n"; block != want {
		t.Errorf("the README's verify differs from the one the tests run:\n%s\n--- tested ---\n%s", block, want)
	}
}

// receiver is an HTTPS endpoint that checks deliveries with the README's
// verify and keeps what it accepted.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secrets  []string
	accepted []*http.Request
	bodies   [][]byte
	refused  int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, s := range r.secrets {
			if verify(s, req.Header, body, time.Now()) == nil {
				r.accepted = append(r.accepted, req)
				r.bodies = append(r.bodies, body)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		r.refused++
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

func (r *receiver) counts() (accepted, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted), r.refused
}

// post sends a crafted delivery and returns the receiver's status.
func (r *receiver) post(t *testing.T, h http.Header, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.URL, strings.NewReader(body))
	req.Header = h.Clone()
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookReceiverVerifiesSignatures: a claim's submission reaches its
// organisation's endpoint through the outbox, signed so that the README's
// receiver accepts it; the same delivery tampered with, too old, or signed
// with another secret is refused; during a rotation a receiver still on
// the old secret accepts deliveries.
func TestWebhookReceiverVerifiesSignatures(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		recv := newReceiver(t)
		hooks := webhooks.New(w.DB, webhooks.URLPolicy{AllowPrivate: true}, 0, nil)
		endpoint, secret, err := hooks.Register(testkit.As("ada"), webhooks.Registration{
			URL: recv.URL + "/cpor", EventTypes: []models.NotificationKind{models.NotifySubmitted, models.NotifyStatusChanged}})
		if err != nil {
			t.Fatal(err)
		}
		recv.trust(secret)
		sender := webhooks.NewSender(w.DB, webhooks.URLPolicy{AllowPrivate: true},
			webhooks.SenderConfig{TLS: recv.Client().Transport.(*http.Transport).TLSClientConfig}, nil, w.Services().Notices, nil)
		d, err := outbox.New(w.DB, outbox.Config{Clock: w.Clock.Now}, map[models.Channel]outbox.Sender{models.ChannelWebhook: sender}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}

		claim := testkit.SubmitFreshClaim(t, w, "ada", "hook-verify")
		if _, err := d.DispatchDue(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
		if ok, bad := recv.counts(); ok != 1 || bad != 0 {
			t.Fatalf("receiver accepted %d, refused %d; want the submission accepted", ok, bad)
		}
		got, body := recv.accepted[0], string(recv.bodies[0])
		if !strings.Contains(body, claim.String()) || !strings.Contains(body, `"type":"claim.submitted"`) {
			t.Errorf("body %s", body)
		}

		tampered := strings.Replace(body, "claim.submitted", "claim.approved", 1)
		old := got.Header.Clone()
		oldTS := time.Now().Add(-10 * time.Minute)
		oldSig, _ := webhooks.Sign(secret, old.Get(webhooks.HeaderID), oldTS, []byte(body))
		old.Set(webhooks.HeaderTimestamp, strconv.FormatInt(oldTS.Unix(), 10))
		old.Set(webhooks.HeaderSignature, oldSig)
		other, _ := webhooks.NewSecret()
		forged := got.Header.Clone()
		forgedSig, _ := webhooks.Sign(other, got.Header.Get(webhooks.HeaderID), time.Now(), []byte(body))
		forged.Set(webhooks.HeaderSignature, forgedSig)
		for name, c := range map[string]struct {
			h    http.Header
			body string
		}{"tampered body": {got.Header, tampered}, "old timestamp": {old, body}, "wrong secret": {forged, body}} {
			if status := recv.post(t, c.h, c.body); status != http.StatusUnauthorized {
				t.Errorf("%s: the receiver answered %d", name, status)
			}
		}

		// Rotation: the receiver still trusts only the old secret.
		if _, _, err := hooks.RotateSecret(testkit.As("ada"), endpoint.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflowRequest(claim)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.DispatchDue(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
		if ok, _ := recv.counts(); ok != 2 {
			t.Errorf("after a rotation the receiver on the old secret accepted %d deliveries, want 2", ok)
		}
		if sigs := strings.Fields(recv.accepted[len(recv.accepted)-1].Header.Get(webhooks.HeaderSignature)); len(sigs) != 2 {
			t.Errorf("during a rotation a delivery carries %d signatures, want 2", len(sigs))
		}
	})
}
