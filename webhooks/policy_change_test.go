package webhooks_test

import (
	"testing"

	"cpor/apperr"
	"cpor/models"
	"cpor/testkit"
	"cpor/webhooks"
)

// TestStricterPolicyStillLetsOwnersManage: an endpoint registered over
// plain http before production's https rule can still be disabled and
// described, but not pointed at another http URL.
func TestStricterPolicyStillLetsOwnersManage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		loose := webhooks.New(w.DB, webhooks.URLPolicy{}, 0, nil)
		e, _, err := loose.Register(testkit.As("ada"), webhooks.Registration{URL: "http://hooks.contoso.example/cpor",
			EventTypes: []models.NotificationKind{models.NotifyApproved}})
		if err != nil {
			t.Fatal(err)
		}
		strict := webhooks.New(w.DB, webhooks.URLPolicy{RequireHTTPS: true}, 0, nil)
		off, words := false, "Old ERP feed"
		got, err := strict.Update(testkit.As("ada"), e.ID, webhooks.Update{Enabled: &off, Description: &words})
		if err != nil || got.DisabledAt == nil || got.Description != words {
			t.Fatalf("disable under a stricter policy: %+v, %v", got, err)
		}
		other := "http://hooks.contoso.example/v2"
		if _, err := strict.Update(testkit.As("ada"), e.ID, webhooks.Update{URL: &other}); !apperr.Is(err, apperr.WebhookURLInvalid) {
			t.Errorf("a new http URL under the https rule: %v", err)
		}
	})
}
