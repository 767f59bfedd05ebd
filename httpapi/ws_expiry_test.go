package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// expiryOf is when the token expires, as the server reads it.
func expiryOf(t *testing.T, token string) time.Time {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{HS256Secret: apitest.Secret, Issuer: "cpor"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	return id.ExpiresAt
}

func claimStatus(t *testing.T, w *testkit.World, id uuid.UUID) (models.ClaimStatus, int) {
	t.Helper()
	var c models.Claim
	if err := w.DB.Take(&c, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return c.Status, c.Version
}

// TestTokenExpiryEndsSubscriptionsOnTime: when a connection's token
// expires, every subscription on it ends at that moment with
// UNAUTHENTICATED and the cursor to resume from, though no event happens;
// the connection stays up (pings work) but refuses new operations, which
// change nothing; reconnecting with a fresh token and after: <cursor>
// delivers exactly the events committed in between.
func TestTokenExpiryEndsSubscriptionsOnTime(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		claim := claimWithStatus(t, w, contoso, models.Submitted)
		// Long enough to subscribe and receive one event of each kind
		// first; tokens count whole seconds.
		token := apitest.TokenFor(t, testkit.Identity("rita"), 5*time.Second)
		expiresAt := expiryOf(t, token)

		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(token)
		ws.Subscribe("all", statusSubscription, nil)
		ws.Subscribe("comments", commentSubscription, map[string]any{"id": gid(claim)})
		waitSubscribers(t, w.Live, 2)
		submitFresh(t, w, 0)
		if _, err := w.Claims.AddComment(testkit.As("rita"), claim, "Before the token expired."); err != nil {
			t.Fatal(err)
		}
		var status statusEvent
		next(t, ws, "all", "claimStatusChanged", &status)
		var comment commentEvent
		next(t, ws, "comments", "commentAdded", &comment)
		if !time.Now().Before(expiresAt) {
			t.Fatal("the token expired before the first events arrived; give it a longer life")
		}

		// No event happens now: the expiry alone ends both.
		wait := time.Until(expiresAt) + 10*time.Second
		for id, cursor := range map[string]string{"all": status.Cursor, "comments": comment.Cursor} {
			e := endedWith(t, ws, id, "UNAUTHENTICATED", wait)
			if time.Now().Before(expiresAt) {
				t.Fatalf("%s ended before the token expired", id)
			}
			if e.Extensions["after"] != cursor || !strings.Contains(e.Message, "token expired") ||
				!strings.Contains(e.Message, "fresh token") || !strings.Contains(e.Message, cursor) {
				t.Fatalf("%s ended with %+v; want the message and extensions.after to give %s", id, e, cursor)
			}
		}

		ws.Ping(5 * time.Second)
		ws.Subscribe("again", statusSubscription, nil)
		if e := endedWith(t, ws, "again", "UNAUTHENTICATED", 5*time.Second); !strings.Contains(e.Message, "token expired") {
			t.Fatalf("a subscription after expiry was refused with %+v", e)
		}
		before, version := claimStatus(t, w, claim)
		ws.Subscribe("review", reviewOverWS, map[string]any{"id": gid(claim)})
		endedWith(t, ws, "review", "UNAUTHENTICATED", 5*time.Second)
		if after, v := claimStatus(t, w, claim); after != before || v != version {
			t.Fatalf("a mutation refused after expiry changed the claim: %s v%d, was %s v%d", after, v, before, version)
		}
		quiet(t, ws) // and still open

		var missed []string
		for i := 1; i <= 2; i++ {
			missed = append(missed, gid(submitFresh(t, w, i)))
			if _, err := w.Claims.AddComment(testkit.As("rita"), claim, fmt.Sprintf("Missed %d", i)); err != nil {
				t.Fatal(err)
			}
		}

		fresh := srv.DialWS(t, "graphql-transport-ws", nil)
		fresh.Init(apitest.Token(t, "rita"))
		fresh.Subscribe("all", statusSubscription, map[string]any{"after": status.Cursor})
		fresh.Subscribe("comments", commentSubscription, map[string]any{"id": gid(claim), "after": comment.Cursor})
		for i, want := range missed {
			next(t, fresh, "all", "claimStatusChanged", &status)
			if status.Claim.ID != want {
				t.Fatalf("replayed status event %d is of %s, want %s", i, status.Claim.ID, want)
			}
			next(t, fresh, "comments", "commentAdded", &comment)
			if body := fmt.Sprintf("Missed %d", i+1); comment.Comment.Body != body {
				t.Fatalf("replayed comment %d is %q, want %q", i, comment.Comment.Body, body)
			}
		}
		continuesLive(t, w, fresh, "all", 2, 3)
	})
}

// TestReferenceClientSeesTokenExpiry: the graphql-ws package from npm
// receives the expiry as its subscription's error, with the code and the
// cursor of the last event it received.
func TestReferenceClientSeesTokenExpiry(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServer(t, w)
	token := apitest.TokenFor(t, testkit.Identity("rita"), 5*time.Second)

	output := startReferenceClient(t, srv, "until-error.mjs", "CPOR_TOKEN="+token)
	waitSubscribers(t, w.Live, 1)
	submitFresh(t, w, 0)
	lines := output()
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "ended ") {
		t.Fatalf("client output: %q; want one event, then the error", lines)
	}
	var event struct{ ClaimStatusChanged statusEvent }
	if err := json.Unmarshal([]byte(lines[0]), &event); err != nil {
		t.Fatal(err)
	}
	var errs []apitest.GQLError
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "ended ")), &errs); err != nil {
		t.Fatalf("%s: %v", lines[1], err)
	}
	if len(errs) != 1 || errs[0].Code() != "UNAUTHENTICATED" || errs[0].Extensions["after"] != event.ClaimStatusChanged.Cursor {
		t.Fatalf("the subscription ended with %+v; want UNAUTHENTICATED after %s", errs, event.ClaimStatusChanged.Cursor)
	}
}
