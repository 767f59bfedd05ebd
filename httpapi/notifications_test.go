package httpapi_test

// Notifications over the API as the apps use them: the inbox, marking it
// read, preferences, and notificationAdded over a websocket.

import (
	"encoding/json"
	"testing"
	"time"

	"cpor/notify"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

const inboxQuery = `query Inbox($after: String) { viewer { notifications(first: 5, after: $after) {
  unreadCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id kind title body nextStep readAt createdAt claimStatus claim { id status } } } } } }`

type inboxPage struct {
	Notifications struct {
		UnreadCount int
		PageInfo    struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Kind, Title, Body string
				NextStep, ReadAt      *string
				ClaimStatus           *string
				Claim                 *struct{ ID, Status string }
			}
		}
	}
}

const markRead = `mutation Mark($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {
  marked unreadCount userErrors { code field message } } }`

type markPayload struct {
	Marked, UnreadCount int
	UserErrors          []userError
}

func TestInboxOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona, carl := srv.Client(t, "ada"), srv.Client(t, "fiona"), srv.Client(t, "carl")
		page := run[inboxPage](t, ada, inboxQuery, nil, "viewer")
		n := page.Notifications
		if n.UnreadCount == 0 || len(n.Edges) != 5 || !n.PageInfo.HasNextPage {
			t.Fatalf("ada's demo inbox: %+v", n)
		}
		first := n.Edges[0].Node
		if first.Claim == nil || first.Title == "" || first.ReadAt != nil {
			t.Errorf("first notification: %+v", first)
		}
		// Fiona may not touch Contoso's notification.
		p := run[markPayload](t, fiona, markRead, map[string]any{"input": map[string]any{"ids": []string{first.ID}}}, "markNotificationsRead")
		if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("fiona marks ada's notification: %+v", p)
		}
		p = run[markPayload](t, ada, markRead, map[string]any{"input": map[string]any{"ids": []string{first.ID}}}, "markNotificationsRead")
		if len(p.UserErrors) != 0 || p.Marked != 1 || p.UnreadCount != n.UnreadCount-1 {
			t.Errorf("ada marks one: %+v (had %d unread)", p, n.UnreadCount)
		}
		p = run[markPayload](t, ada, markRead, map[string]any{"input": map[string]any{"all": true}}, "markNotificationsRead")
		if p.UnreadCount != 0 || p.Marked != n.UnreadCount-1 {
			t.Errorf("ada marks all: %+v", p)
		}
		p = run[markPayload](t, ada, markRead, map[string]any{"input": map[string]any{"ids": []string{"not-an-id"}}}, "markNotificationsRead")
		if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "INVALID_INPUT" {
			t.Errorf("a malformed ID: %+v", p)
		}
		if r := carl.Do(t, inboxQuery, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("carl reads an inbox: %+v", r.Errors)
		}

		type prefs struct {
			NotificationPreferences struct {
				Delivery string
				Email    *string
			}
			UserErrors []userError
		}
		got := run[prefs](t, ada, `mutation { updateNotificationPreferences(input: {delivery: DAILY_DIGEST}) {
		  notificationPreferences { delivery email } userErrors { code field message } } }`, nil, "updateNotificationPreferences")
		if got.NotificationPreferences.Delivery != "DAILY_DIGEST" || got.NotificationPreferences.Email == nil || *got.NotificationPreferences.Email != "ada@contoso.example" {
			t.Errorf("update preferences: %+v", got)
		}
		again := run[struct {
			NotificationPreferences struct{ Delivery string }
		}](t, ada, `{ viewer { notificationPreferences { delivery } } }`, nil, "viewer")
		if again.NotificationPreferences.Delivery != "DAILY_DIGEST" {
			t.Errorf("preference read back: %+v", again)
		}
	})
}

// TestNotificationAddedLive: a partner admin hears of their claim's review
// start at once; another organisation's admin hears nothing of it.
func TestNotificationAddedLive(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "live-notification")
		subscribe := func(handle string) *apitest.WS {
			ws := srv.DialWS(t, "graphql-transport-ws", nil)
			ws.Init(apitest.Token(t, handle))
			ws.Subscribe("n", `subscription { notificationAdded { id kind title claimStatus claim { id } } }`, nil)
			return ws
		}
		adaWS, fionaWS := subscribe("ada"), subscribe("fiona")
		waitFeed(t, w.Services().Feed, 2)
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		// The submission's own notification may still be on its way (on
		// PostgreSQL by NOTIFY); the review start's follows it.
		var got struct {
			Data struct {
				NotificationAdded struct {
					Kind, Title string
					ClaimStatus string
					Claim       struct{ ID string }
				}
			}
		}
		for {
			m := adaWS.NextFor("n", 20*time.Second)
			if err := json.Unmarshal(m.Payload, &got); err != nil {
				t.Fatal(err)
			}
			if got.Data.NotificationAdded.Kind != "CLAIM_SUBMITTED" {
				break
			}
		}
		n := got.Data.NotificationAdded
		if n.Kind != "CLAIM_STATUS_CHANGED" || n.ClaimStatus != "UNDER_REVIEW" || n.Claim.ID != gid(claim) {
			t.Errorf("ada heard %+v", n)
		}
		fionaWS.Ping(2 * time.Second)
		if fionaWS.Pending() != 0 {
			t.Errorf("fiona heard of Contoso's claim")
		}
	})
}

func waitFeed(t *testing.T, feed *notify.Feed, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for feed.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("feed has %d subscribers, want %d", feed.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
