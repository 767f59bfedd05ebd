package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// refusedUpgrade dials the server and checks that the upgrade is refused
// with 503 and a SERVER_SHUTTING_DOWN error.
func refusedUpgrade(t *testing.T, srv *apitest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil {
		_ = conn.CloseNow()
		t.Fatal("a new websocket was accepted during the drain")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade during the drain: %v, %+v; want 503", err, resp)
	}
	var body struct{ Errors []apitest.GQLError }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Errors) != 1 || body.Errors[0].Code() != "SERVER_SHUTTING_DOWN" {
		t.Fatalf("503 body: %+v, %v", body, err)
	}
}

// closedWith waits for the server to close the connection with code.
func closedWith(t *testing.T, ws *apitest.WS, code websocket.StatusCode) {
	t.Helper()
	if got := ws.CloseStatus(10 * time.Second); got != code {
		t.Fatalf("closed with %d, want %d", got, code)
	}
}

// TestShutdownDrainsWebsockets: on Shutdown every subscription, of either
// protocol, live or resumed, ends with SERVER_SHUTTING_DOWN and the cursor
// of the last event it delivered (or where it started); a mutation already
// running over a websocket finishes and is answered; new upgrades get 503
// meanwhile; then each connection closes with 1001, and resuming from the
// cursors on another instance loses nothing.
func TestShutdownDrainsWebsockets(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		shutdown := srv.API.CloseWebsockets
		claim := claimWithStatus(t, w, contoso, models.Submitted)

		working := srv.DialWS(t, "graphql-transport-ws", nil) // subscribes, and runs the mutation
		working.Init(apitest.Token(t, "rita"))
		working.Subscribe("all", statusSubscription, nil)
		legacy := srv.DialWS(t, "graphql-ws", nil)
		legacy.Init(apitest.Token(t, "rita"))
		legacy.Subscribe("all", statusSubscription, nil)
		quietOne := srv.DialWS(t, "graphql-transport-ws", nil) // receives nothing
		quietOne.Init(apitest.Token(t, "rita"))
		quietOne.Subscribe("comments", commentSubscription, map[string]any{"id": gid(claim)})
		waitSubscribers(t, w.Live, 3)

		submitFresh(t, w, 0)
		submitFresh(t, w, 1)
		var ev statusEvent
		var cursors []string
		for range 2 {
			next(t, working, "all", "claimStatusChanged", &ev)
			cursors = append(cursors, ev.Cursor)
			next(t, legacy, "all", "claimStatusChanged", &ev)
		}
		last := cursors[1]
		resumed := srv.DialWS(t, "graphql-transport-ws", nil) // replays the second event
		resumed.Init(apitest.Token(t, "rita"))
		resumed.Subscribe("all", statusSubscription, map[string]any{"after": cursors[0]})
		next(t, resumed, "all", "claimStatusChanged", &ev)
		if ev.Cursor != last {
			t.Fatalf("resumed with %+v", ev)
		}

		// The mutation waits for a lock this test holds; the pong says
		// the server has started it.
		lock := w.DB.Begin()
		if err := lock.Exec("UPDATE claims SET status = status WHERE id = ?", claim).Error; err != nil {
			t.Fatal(err)
		}
		defer lock.Rollback()
		working.Subscribe("review", reviewOverWS, map[string]any{"id": gid(claim)})
		working.Ping(5 * time.Second)

		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		drained := make(chan error, 1)
		go func() { drained <- shutdown(shutdownCtx) }()

		for name, ws := range map[string]*apitest.WS{"working": working, "legacy": legacy, "resumed": resumed} {
			e := endedWith(t, ws, "all", "SERVER_SHUTTING_DOWN", 10*time.Second)
			if e.Extensions["after"] != last || !strings.Contains(e.Message, last) {
				t.Fatalf("%s's subscription ended with %+v; want it to resume after %s", name, e, last)
			}
		}
		e := endedWith(t, quietOne, "comments", "SERVER_SHUTTING_DOWN", 10*time.Second)
		quietFrom, _ := e.Extensions["after"].(string)
		if quietFrom == "" {
			t.Fatalf("a subscription that received nothing ended with %+v; want where it started", e)
		}
		for _, ws := range []*apitest.WS{legacy, resumed, quietOne} {
			closedWith(t, ws, websocket.StatusGoingAway)
		}

		refusedUpgrade(t, srv)
		working.Subscribe("late", statusSubscription, nil)
		endedWith(t, working, "late", "SERVER_SHUTTING_DOWN", 10*time.Second)
		select {
		case err := <-drained:
			t.Fatalf("Shutdown returned (%v) while a mutation was running", err)
		default:
		}

		if err := lock.Rollback().Error; err != nil {
			t.Fatal(err)
		}
		var out struct {
			StartReview struct{ Claim struct{ Status string } }
		}
		next(t, working, "review", "startReview", &out.StartReview)
		if out.StartReview.Claim.Status != "UNDER_REVIEW" {
			t.Fatalf("the mutation answered %+v", out)
		}
		if m := working.NextFor("review", 10*time.Second); m.Type != "complete" {
			t.Fatalf("after its result the mutation sent %+v", m)
		}
		closedWith(t, working, websocket.StatusGoingAway)
		if err := <-drained; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}

		// Another instance serves the resumption: the review and a
		// comment happened after the subscriptions ended.
		if _, err := w.Claims.AddComment(testkit.As("rita"), claim, "After the drain."); err != nil {
			t.Fatal(err)
		}
		other := apitest.NewServer(t, w)
		ws := other.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "rita"))
		ws.Subscribe("all", statusSubscription, map[string]any{"after": last})
		ws.Subscribe("comments", commentSubscription, map[string]any{"id": gid(claim), "after": quietFrom})
		next(t, ws, "all", "claimStatusChanged", &ev)
		if ev.Claim.ID != gid(claim) || ev.Status != "UNDER_REVIEW" {
			t.Fatalf("resumed after the drain with %+v", ev)
		}
		var c commentEvent
		next(t, ws, "comments", "commentAdded", &c)
		if c.Comment.Body != "After the drain." {
			t.Fatalf("resumed comments with %+v", c)
		}
		quiet(t, ws)
	})
}
