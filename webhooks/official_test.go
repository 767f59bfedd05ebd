package webhooks_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"cpor/webhooks"
)

// TestOfficialLibraryAgrees holds our signatures to the Standard Webhooks
// reference implementation: the specification's own example signs the
// same; the library verifies what we send, with one signature or two (a
// rotation), and refuses it tampered; our Verify accepts the library's.
func TestOfficialLibraryAgrees(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	example := time.Unix(1614265330, 0)
	ours, err := webhooks.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", example, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	official, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := official.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", example, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if ours != theirs {
		t.Fatalf("Sign = %q, the reference implementation = %q", ours, theirs)
	}

	previous, _ := webhooks.NewSecret()
	current, _ := webhooks.NewSecret()
	now := time.Now()
	body := []byte(`{"type":"claim.approved"}`)
	var sigs []string
	for _, s := range []string{current, previous} {
		sig, err := webhooks.Sign(s, "3f0e8a8e-5a0e-4c9e-9d7e-0b8f3c1d2e4f", now, body)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(webhooks.HeaderID, "3f0e8a8e-5a0e-4c9e-9d7e-0b8f3c1d2e4f")
	h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhooks.HeaderSignature, strings.Join(sigs, " "))
	for _, s := range []string{current, previous} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("the reference implementation refuses our delivery: %v", err)
		}
		if wh.Verify([]byte(`{"type":"claim.rejected"}`), h) == nil {
			t.Error("the reference implementation accepts a tampered body")
		}
	}
	wh, _ := standardwebhooks.NewWebhook(current)
	sig, err := wh.Sign("delivery-2", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h.Set(webhooks.HeaderID, "delivery-2")
	h.Set(webhooks.HeaderSignature, sig)
	if err := webhooks.Verify([]string{current}, h, body, now, webhooks.DefaultTolerance); err != nil {
		t.Errorf("our Verify refuses the reference implementation's signature: %v", err)
	}
}
