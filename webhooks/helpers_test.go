package webhooks_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/webhooks"
)

// fixedClock is a clock tests set; it starts at the real time, cut to the
// microsecond as the databases keep it.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fixedClock {
	return &fixedClock{now: time.Now().UTC().Truncate(time.Microsecond)}
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// wantCode fails unless err carries code (on field, when field is not "").
func wantCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	list, ok := apperr.All(err)
	if !ok || len(list) == 0 {
		t.Fatalf("error %v, want %s", err, code)
	}
	if list[0].Code != code || (field != "" && list[0].Field != field) {
		t.Fatalf("error %v, want %s on field %q", err, code, field)
	}
}

// sameTime reports whether two times read back from a database agree to
// within a millisecond.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}

func kinds(ks ...models.NotificationKind) []models.NotificationKind { return ks }

// register registers an endpoint as the demo user, failing the test on an
// error.
func register(t *testing.T, svc *webhooks.Service, handle, url string, ks ...models.NotificationKind) (*models.WebhookEndpoint, string) {
	t.Helper()
	if len(ks) == 0 {
		ks = kinds(models.NotifySubmitted)
	}
	e, secret, err := svc.Register(testkit.As(handle), webhooks.Registration{URL: url, EventTypes: ks})
	if err != nil {
		t.Fatalf("register %s as %s: %v", url, handle, err)
	}
	return e, secret
}

// endpointRow reads an endpoint as stored.
func endpointRow(t *testing.T, db *gorm.DB, id uuid.UUID) models.WebhookEndpoint {
	t.Helper()
	var e models.WebhookEndpoint
	if err := db.Take(&e, "id = ?", id).Error; err != nil {
		t.Fatalf("read endpoint %s: %v", id, err)
	}
	return e
}

// deliveryRow reads a delivery as stored.
func deliveryRow(t *testing.T, db *gorm.DB, id uuid.UUID) models.Delivery {
	t.Helper()
	var d models.Delivery
	if err := db.Take(&d, "id = ?", id).Error; err != nil {
		t.Fatalf("read delivery %s: %v", id, err)
	}
	return d
}

// insertDelivery writes a webhook delivery to the endpoint directly.
func insertDelivery(t *testing.T, db *gorm.DB, endpoint uuid.UUID, status models.DeliveryStatus, payload string) models.Delivery {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := models.Delivery{
		ID: uuid.New(), Channel: models.ChannelWebhook, Recipient: endpoint.String(), Address: "claim.submitted",
		Payload: payload, Status: status, NextAttemptAt: now, GiveUpAt: now.Add(24 * time.Hour), CreatedAt: now,
	}
	if err := db.Create(&d).Error; err != nil {
		t.Fatalf("insert delivery: %v", err)
	}
	return d
}

// webhookDeliveries are the deliveries to an endpoint, oldest first.
func webhookDeliveries(t *testing.T, db *gorm.DB, endpoint uuid.UUID) []models.Delivery {
	t.Helper()
	var ds []models.Delivery
	if err := db.Where("channel = ? AND recipient = ?", models.ChannelWebhook, endpoint.String()).
		Order("created_at, id").Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

var anonymous = context.Background()

// resetWebhooks removes every endpoint and webhook delivery, so that a
// subtest on a shared world starts from none.
func resetWebhooks(t *testing.T, w *testkit.World) {
	t.Helper()
	err := w.DB.Transaction(func(tx *gorm.DB) error {
		webhookRows := tx.Model(&models.Delivery{}).Select("id").Where("channel = ?", models.ChannelWebhook)
		if err := tx.Where("delivery_id IN (?)", webhookRows).Delete(&models.DeliveryAttempt{}).Error; err != nil {
			return err
		}
		if err := tx.Where("channel = ?", models.ChannelWebhook).Delete(&models.Delivery{}).Error; err != nil {
			return err
		}
		return tx.Where("1 = 1").Delete(&models.WebhookEndpoint{}).Error
	})
	if err != nil {
		t.Fatalf("reset webhooks: %v", err)
	}
}

// relayAll asks for a page of up to 100.
func relayAll() relay.Args {
	n := 100
	return relay.Args{First: &n}
}
