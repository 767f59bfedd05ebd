package mail_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/mail"
	"cpor/models"
	"cpor/outbox"
)

func TestDigestRoundTrip(t *testing.T) {
	t.Parallel()
	claim := uuid.New()
	d := mail.Digest{Name: "Ada", Notifications: []models.Notification{
		{
			ID: uuid.New(), Kind: models.NotifyApproved, Title: "Approved", Body: "Yes.",
			NextStep: "Invoice us.", ClaimID: &claim, ClaimName: "Q3", ClaimStatus: models.Submitted,
			CreatedAt: time.Date(2026, 11, 20, 9, 30, 0, 123, time.UTC),
		},
		{ID: uuid.New(), Kind: models.NotifyWebhookDisabled, Title: "Webhook off", CreatedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
	}}
	payload, err := mail.EncodeDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mail.DecodeDigest(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
	}

	// The field names are the digest writer's contract.
	var wire map[string]any
	if err := json.Unmarshal([]byte(payload), &wire); err != nil {
		t.Fatal(err)
	}
	first := wire["notifications"].([]any)[0].(map[string]any)
	for _, key := range []string{"id", "kind", "title", "body", "nextStep", "claimId", "claimName", "claimStatus", "createdAt"} {
		if _, ok := first[key]; !ok {
			t.Errorf("payload lacks %q: %s", key, payload)
		}
	}
	if wire["name"] != "Ada" {
		t.Errorf("payload name: %s", payload)
	}
	if again, _ := mail.EncodeDigest(got); again != payload {
		t.Errorf("encoding is not stable:\n%s\n%s", payload, again)
	}

	// A newer writer's fields are ignored.
	if _, err := mail.DecodeDigest(`{"name":"x","notifications":[],"extra":1}`); err != nil {
		t.Errorf("unknown field: %v", err)
	}
}

func TestEncodeRecipient(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "Ada", `"quoted" <odd>` + "\n"} {
		var got struct{ Name string }
		if err := json.Unmarshal([]byte(mail.EncodeRecipient(name)), &got); err != nil || got.Name != name {
			t.Errorf("EncodeRecipient(%q) = %s (%v)", name, mail.EncodeRecipient(name), err)
		}
	}
}

// FuzzDecodeDigest: no payload panics the decoder or the rendering, and
// what decodes encodes to a fixed point.
func FuzzDecodeDigest(f *testing.F) {
	claim := uuid.New()
	seed, _ := mail.EncodeDigest(mail.Digest{Name: "Ada", Notifications: []models.Notification{{
		ID: uuid.New(), Kind: models.NotifySubmitted, Title: "<b>t</b>", Body: "b\nc", ClaimID: &claim,
		ClaimStatus: models.UnderReview, CreatedAt: time.Now(),
	}}})
	for _, s := range []string{seed, "", "null", "{}", `{"notifications":null}`, `{"notifications":[{}]}`,
		`{"notifications":[{"claimId":"nope"}]}`, `{"notifications":[{"createdAt":"yesterday"}]}`, "[]", `"x"`} {
		f.Add(s)
	}
	s, err := mail.NewSender(mail.Config{AppURL: "https://cpor.example"}, quiet) // renders, sends nowhere
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		d, err := mail.DecodeDigest(payload)
		if err != nil {
			return
		}
		first, err := mail.EncodeDigest(d)
		if err != nil {
			t.Fatalf("decoded digest does not encode: %v", err)
		}
		d2, err := mail.DecodeDigest(first)
		if err != nil {
			t.Fatalf("encoded digest does not decode: %v\n%s", err, first)
		}
		if second, _ := mail.EncodeDigest(d2); second != first {
			t.Fatalf("not a fixed point:\n%s\n%s", first, second)
		}
		s.Send(context.Background(), outbox.Message{Delivery: models.Delivery{ID: uuid.New(), Address: "a@b.example", Payload: payload}})
	})
}
