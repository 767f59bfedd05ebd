package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/live"
	"cpor/models"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/workflow"
)

// TestHubReadsNothingForAnotherTenantsCustomer: a customer admin following
// its tenant's claims makes the hub read nothing for another tenant's
// events (the announcement carries the tenant); one of the claim's tenant
// receives its status change, and no comment.
func TestHubReadsNothingForAnotherTenantsCustomer(t *testing.T) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			w := testkit.New(t, d, testkit.Options{Live: quietConfig})
			claim := testkit.SubmitFreshClaim(t, w, "ada", "customer-watched")
			var c models.Claim
			if err := w.DB.Where("id = ?", claim).Take(&c).Error; err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			elsewhere := auth.Identity{UserID: "x", TenantID: uuid.New(), Roles: []auth.Role{auth.CustomerAdmin}}
			subscribe(t, ctx, w, live.Filter{Identity: &elsewhere, Kind: live.StatusChanges})
			assertHubSilent(t, w, claim) // ends with the claim UNDER_REVIEW

			owner := auth.Identity{UserID: "y", TenantID: c.CustomerTenantID, Roles: []auth.Role{auth.CustomerAdmin}}
			watching := subscribe(t, ctx, w, live.Filter{Identity: &owner, Kind: live.StatusChanges})
			quiesce(t, w)
			if _, err := w.Claims.AddComment(testkit.As("rita"), claim, "not for the customer"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Workflow.Approve(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
				t.Fatal(err)
			}
			select {
			case d := <-watching:
				if d.Event.ClaimID != claim || d.Event.ToStatus == nil || *d.Event.ToStatus != models.Approved {
					t.Fatalf("received %+v", d.Event)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the tenant's customer admin received nothing")
			}
			select {
			case d := <-watching:
				t.Fatalf("then received %+v", d.Event)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}

// TestReplayForCustomerAdminKeepsToItsTenant: resuming after a cursor, a
// customer admin is replayed the status changes of its tenant's submitted
// claims and nothing of another tenant's.
func TestReplayForCustomerAdminKeepsToItsTenant(t *testing.T) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			w := testkit.New(t, d)
			mine := testkit.SubmitFreshClaim(t, w, "ada", "replay-mine")
			theirs := testkit.SubmitFreshClaim(t, w, "fiona", "replay-theirs")
			var c models.Claim
			if err := w.DB.Where("id = ?", mine).Take(&c).Error; err != nil {
				t.Fatal(err)
			}
			var after int64
			if err := w.DB.Model(&models.ClaimEvent{}).Select("COALESCE(MAX(seq), 0)").Scan(&after).Error; err != nil {
				t.Fatal(err)
			}
			for _, id := range []uuid.UUID{theirs, mine} {
				if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: id}); err != nil {
					t.Fatal(err)
				}
			}
			w.Settle(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			owner := auth.Identity{UserID: "y", TenantID: c.CustomerTenantID, Roles: []auth.Role{auth.CustomerAdmin}}
			ch, err := live.Subscribe(ctx, w.Live, live.Filter{Identity: &owner, Kind: live.StatusChanges},
				live.Options{After: &after}, func(d *live.Delivery) *live.Delivery { return d })
			if err != nil {
				t.Fatal(err)
			}
			select {
			case d := <-ch:
				if d.Event.ClaimID != mine {
					t.Fatalf("replayed another tenant's event: %+v", d.Event)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("nothing replayed")
			}
			select {
			case d := <-ch:
				t.Fatalf("then replayed %+v", d.Event)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}
