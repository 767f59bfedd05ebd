package notify

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/models"
)

// TestFeedDeliversNewsOnly: a subscriber receives what is written from
// about the moment it subscribed, not a backlog of older notifications an
// instance is still catching up on (they are in the inbox); and only its
// audiences'.
func TestFeedDeliversNewsOnly(t *testing.T) {
	f := NewFeed(nil, nil)
	org := uuid.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := f.Subscribe(ctx, &auth.Identity{UserID: "ada", OrganizationID: org, Roles: []auth.Role{auth.GlobalAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	notice := func(at time.Time, audience uuid.UUID) models.Notification {
		return models.Notification{ID: uuid.New(), Audience: models.AudiencePartnerAdmins, AudienceID: &audience, CreatedAt: at}
	}
	now := time.Now()
	old, fresh, other := notice(now.Add(-time.Minute), org), notice(now, org), notice(now, uuid.New())
	var backlog []models.Notification
	for range 2 * subscriptionBuffer {
		backlog = append(backlog, notice(now.Add(-time.Hour), org))
	}
	f.Publish(append(backlog, old, other, fresh))
	select {
	case n := <-ch:
		if n.ID != fresh.ID {
			t.Fatalf("received %v, want only the fresh notification", n.ID)
		}
	case <-time.After(time.Second):
		t.Fatal("the fresh notification never came (the backlog may have ended the subscriber as too slow)")
	}
	select {
	case n, open := <-ch:
		if open {
			t.Fatalf("received %v as well", n.ID)
		}
		t.Fatal("the subscription ended")
	default:
	}
}
