package events_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/events"
	"cpor/models"
)

// TestAnnouncementCarriesTheTenant: an announcement names each event's
// claim, organisation and customer tenant, round trips through its
// payload, and reads an older instance's payload (no tenant) with an
// unknown tenant rather than as garbage.
func TestAnnouncementCarriesTheTenant(t *testing.T) {
	claim, org, tenant := uuid.New(), uuid.New(), uuid.New()
	from, to := models.Submitted, models.UnderReview
	a := events.Announce([]models.ClaimEvent{{Seq: 7, ClaimID: claim, OrganizationID: org, CustomerTenantID: tenant,
		Type: models.EventStatusChanged, FromStatus: &from, ToStatus: &to}})
	want := events.Announced{Stream: events.StatusStream, ClaimID: claim, OrganizationID: org, TenantID: tenant}
	if len(a.Events) != 1 || a.Events[0] != want {
		t.Fatalf("announced %+v", a.Events)
	}
	back := events.ParseAnnouncement(a.Encode())
	if back.Partial || back.Last != 7 || len(back.Events) != 1 || back.Events[0] != want {
		t.Fatalf("round trip %q: %+v", a.Encode(), back)
	}
	old := events.ParseAnnouncement("7|S" + claim.String() + ":" + org.String())
	if old.Partial || len(old.Events) != 1 || old.Events[0].TenantID != uuid.Nil || old.Events[0].ClaimID != claim {
		t.Fatalf("older payload: %+v", old)
	}
	for _, bad := range []string{"7|S" + claim.String(), "7|S" + claim.String() + ":" + org.String() + ":x", "7|S1:2:3:4"} {
		if !events.ParseAnnouncement(bad).Partial {
			t.Errorf("%q parsed as complete", bad)
		}
	}
}

// TestLargestAnnouncementFitsANotification: the most events an
// announcement lists stay under PostgreSQL's 8,000-byte payload limit.
func TestLargestAnnouncementFitsANotification(t *testing.T) {
	from, to := models.Submitted, models.UnderReview
	var rows []models.ClaimEvent
	for i := range 1000 {
		rows = append(rows, models.ClaimEvent{Seq: 1 << 62, ClaimID: uuid.New(), OrganizationID: uuid.New(), CustomerTenantID: uuid.New(),
			Type: models.EventStatusChanged, FromStatus: &from, ToStatus: &to})
		a := events.Announce(rows[:i+1])
		if p := a.Encode(); len(p) >= 8000 {
			t.Fatalf("%d events: payload of %d bytes", i+1, len(p))
		}
		if a.Partial && !strings.HasSuffix(a.Encode(), "|*") {
			t.Fatalf("partial payload %q", a.Encode())
		}
	}
}
