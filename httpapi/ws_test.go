package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"cpor/httpapi"
	"cpor/live"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

func TestLiveEventsArriveInOrderExactlyOnceAndOnlyToThoseAllowed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		claim := claimWithStatus(t, w, contoso, models.Submitted)
		other := claimWithStatus(t, w, fabrikam, models.Arbitration)

		rita := srv.DialWS(t, "graphql-transport-ws", nil)
		rita.Init(apitest.Token(t, "rita"))
		rita.Subscribe("status", statusSubscription, map[string]any{"id": gid(claim)})
		rita.Subscribe("comments", commentSubscription, map[string]any{"id": gid(claim)})
		ada := srv.DialWS(t, "graphql-transport-ws", nil)
		ada.Init(apitest.Token(t, "ada"))
		ada.Subscribe("all", statusSubscription, nil)
		fiona := srv.DialWS(t, "graphql-transport-ws", nil)
		fiona.Init(apitest.Token(t, "fiona"))
		fiona.Subscribe("all", statusSubscription, nil)
		waitSubscribers(t, w.Live, 4)

		reviewer, partner := testkit.As("rita"), testkit.As("ada")
		must := func(_ *models.Claim, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(w.Workflow.StartReview(reviewer, workflow.Request{ClaimID: claim}))
		must(w.Workflow.RequestInformation(reviewer, workflow.Request{ClaimID: claim, Reason: "Send the agenda."}))
		if _, err := w.Claims.AddComment(partner, claim, "Agenda attached."); err != nil {
			t.Fatal(err)
		}
		must(w.Workflow.Approve(reviewer, workflow.Request{ClaimID: claim}))
		// An event of the other organisation: only reviewers and Fabrikam may see it.
		must(w.Workflow.Reject(reviewer, workflow.Request{ClaimID: other, Reason: "Duplicate."}))

		var got []string
		for range 2 {
			var ev statusEvent
			next(t, rita, "status", "claimStatusChanged", &ev)
			got = append(got, ev.PreviousStatus+">"+ev.Status)
		}
		if strings.Join(got, " ") != "SUBMITTED>UNDER_REVIEW UNDER_REVIEW>APPROVED" {
			t.Fatalf("reviewer got %v", got)
		}
		var kinds []string
		for range 3 {
			var ev commentEvent
			next(t, rita, "comments", "commentAdded", &ev)
			kinds = append(kinds, ev.Comment.Kind)
		}
		if strings.Join(kinds, " ") != "INFORMATION_REQUEST SYSTEM PARTNER" {
			t.Fatalf("comments arrived as %v", kinds)
		}
		quiet(t, rita)

		got = nil
		for range 2 {
			var ev statusEvent
			next(t, ada, "all", "claimStatusChanged", &ev)
			if ev.Claim.Organization.Name != "Contoso Partners" {
				t.Fatalf("ada received another organisation's event: %+v", ev)
			}
			got = append(got, ev.Status)
		}
		if strings.Join(got, " ") != "UNDER_REVIEW APPROVED" {
			t.Fatalf("ada got %v", got)
		}
		quiet(t, ada)

		var ev statusEvent
		next(t, fiona, "all", "claimStatusChanged", &ev)
		if ev.Claim.ID != gid(other) || ev.Status != "REJECTED" {
			t.Fatalf("fiona's first event is not her own claim's rejection: %+v", ev)
		}
		quiet(t, fiona)
	})
}

func TestLegacyGraphqlWsSubprotocol(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServer(t, w)
	ws := srv.DialWS(t, "graphql-ws", nil)
	ws.Init(apitest.Token(t, "rita"))
	claim := claimWithStatus(t, w, contoso, models.Submitted)
	ws.Subscribe("1", statusSubscription, map[string]any{"id": gid(claim)})
	waitSubscribers(t, w.Live, 1)
	if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
		t.Fatal(err)
	}
	var ev statusEvent
	next(t, ws, "1", "claimStatusChanged", &ev)
	if ev.Status != "UNDER_REVIEW" {
		t.Fatalf("got %+v", ev)
	}
	ws.Send(apitest.WSMessage{ID: "1", Type: "stop"})
	if m := ws.MustRead(5 * time.Second); m.Type != "complete" || m.ID != "1" {
		t.Fatalf("stop answered with %+v", m)
	}
}

func TestWebsocketProtocolEdgeCases(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServerWith(t, w, func(c *httpapi.Config) {
		c.InitTimeout = 300 * time.Millisecond
		c.MaxSubscriptions = 2
	})
	init := func(payload string) apitest.WSMessage {
		return apitest.WSMessage{Type: "connection_init", Payload: json.RawMessage(payload)}
	}
	tests := []struct {
		name string
		run  func(ws *apitest.WS)
		want websocket.StatusCode
	}{
		{"no connection_init", func(*apitest.WS) {}, 4408},
		{"bad token", func(ws *apitest.WS) { ws.Send(init(`{"Authorization":"Bearer not.a.token"}`)) }, 4403},
		{"no token", func(ws *apitest.WS) { ws.Send(init(`{}`)) }, 4403},
		{"expired token", func(ws *apitest.WS) {
			u := testkit.Identity("rita")
			ws.Send(init(`{"Authorization":"Bearer ` + apitest.TokenFor(t, u, -time.Hour) + `"}`))
		}, 4403},
		{"subscribe before init", func(ws *apitest.WS) { ws.Subscribe("1", statusSubscription, nil) }, 4401},
		{"duplicate id", func(ws *apitest.WS) {
			ws.Init(apitest.Token(t, "rita"))
			ws.Subscribe("same", statusSubscription, nil)
			ws.Subscribe("same", statusSubscription, nil)
		}, 4409},
		{"malformed message", func(ws *apitest.WS) {
			ws.Init(apitest.Token(t, "rita"))
			ws.SendRaw(`{"type":`)
		}, 4400},
		{"unknown message type", func(ws *apitest.WS) {
			ws.Init(apitest.Token(t, "rita"))
			ws.SendRaw(`{"type":"gimme"}`)
		}, 4400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := srv.DialWS(t, "graphql-transport-ws", nil)
			tt.run(ws)
			if got := ws.CloseStatus(5 * time.Second); got != tt.want {
				t.Fatalf("closed with %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("subscription cap refuses only the extra subscription", func(t *testing.T) {
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "rita"))
		for _, id := range []string{"a", "b", "c"} {
			ws.Subscribe(id, statusSubscription, nil)
		}
		m := ws.MustRead(5 * time.Second)
		if m.Type != "error" || m.ID != "c" || !strings.Contains(string(m.Payload), "TOO_MANY_SUBSCRIPTIONS") {
			t.Fatalf("third subscription answered with %+v", m)
		}
		ws.Send(apitest.WSMessage{ID: "a", Type: "complete"})
		ws.Subscribe("d", statusSubscription, nil) // room again
		quiet(t, ws)
	})

	t.Run("upgrade header authenticates", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + apitest.Token(t, "ada")}}
		ws := srv.DialWS(t, "graphql-transport-ws", h)
		ws.Send(init(`{}`))
		if m := ws.MustRead(5 * time.Second); m.Type != "connection_ack" {
			t.Fatalf("got %+v", m)
		}
	})

	t.Run("another organisation's claim is not found", func(t *testing.T) {
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "fiona"))
		ws.Subscribe("x", commentSubscription, map[string]any{"id": gid(claimWithStatus(t, w, contoso, models.Submitted))})
		m := ws.MustRead(5 * time.Second)
		if !strings.Contains(string(m.Payload), "NOT_FOUND") {
			t.Fatalf("got %s %s", m.Type, m.Payload)
		}
	})

	t.Run("a partner without an admin role is forbidden", func(t *testing.T) {
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "carl"))
		ws.Subscribe("x", statusSubscription, nil)
		m := ws.MustRead(5 * time.Second)
		if !strings.Contains(string(m.Payload), "FORBIDDEN") {
			t.Fatalf("got %s %s", m.Type, m.Payload)
		}
	})
}

func TestSecondInstanceDeliversMutationsOfTheFirst(t *testing.T) {
	a := testkit.New(t, storage.Postgres)
	b := a.Instance(t, live.Config{})
	srvA, srvB := apitest.NewServer(t, a), apitest.NewServer(t, b)

	ws := srvB.DialWS(t, "graphql-transport-ws", nil)
	ws.Init(apitest.Token(t, "rita"))
	ws.Subscribe("all", statusSubscription, nil)
	waitSubscribers(t, b.Live, 1)

	claim := claimWithStatus(t, a, contoso, models.Submitted)
	var out struct {
		StartReview struct{ Claim struct{ Status string } }
	}
	srvA.Client(t, "rita").MustDo(t, `mutation ($id: ID!) { startReview(input: {claimId: $id}) { claim { status } } }`,
		map[string]any{"id": gid(claim)}, &out)
	var ev statusEvent
	next(t, ws, "all", "claimStatusChanged", &ev)
	if ev.Claim.ID != gid(claim) || ev.Status != "UNDER_REVIEW" {
		t.Fatalf("instance B delivered %+v", ev)
	}
}

func TestListenerFaultLosesAndRepeatsNothing(t *testing.T) {
	a := testkit.New(t, storage.Postgres)
	// B polls the table only rarely: the events must reach it through the
	// listener and its catch-up after reconnecting.
	b := a.Instance(t, live.Config{Buffer: 256, Poll: time.Hour, Batch: 64})
	srvB := apitest.NewServer(t, b)
	ws := srvB.DialWS(t, "graphql-transport-ws", nil)
	ws.Init(apitest.Token(t, "rita"))
	ws.Subscribe("all", statusSubscription, nil)
	waitSubscribers(t, b.Live, 1)

	const n = 30
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	killed := 0
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			var pids []int
			a.DB.Raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?", live.ListenerApplicationName).Scan(&pids)
			killed += len(pids)
			time.Sleep(15 * time.Millisecond)
		}
	}()
	want := map[string]bool{}
	for i := range n {
		want[gid(submitFresh(t, a, i))] = true
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if killed == 0 {
		t.Fatal("the listener was never terminated")
	}
	// The last kill may have left B without a listener for a moment: one
	// more committed event after it proves B caught up.
	want[gid(submitFresh(t, a, n))] = true

	seen := map[string]int{}
	var lastCursor string
	for range n + 1 {
		var ev statusEvent
		next(t, ws, "all", "claimStatusChanged", &ev)
		seen[ev.Claim.ID]++
		if ev.Cursor <= lastCursor && len(ev.Cursor) == len(lastCursor) {
			t.Fatalf("out of order: %s after %s", ev.Cursor, lastCursor)
		}
		lastCursor = ev.Cursor
	}
	for id := range want {
		if seen[id] != 1 {
			t.Fatalf("claim %s delivered %d times", id, seen[id])
		}
	}
	quiet(t, ws)
	t.Logf("terminated the listener %d times; %d events delivered once each", killed, n+1)
}

func TestResumeAfterCursorReplaysExactlyWhatWasMissed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "ada"))
		ws.Subscribe("all", statusSubscription, nil)
		waitSubscribers(t, w.Live, 1)
		first := submitFresh(t, w, 0)
		var ev statusEvent
		next(t, ws, "all", "claimStatusChanged", &ev)
		if ev.Claim.ID != gid(first) {
			t.Fatalf("got %+v", ev)
		}
		cursor := ev.Cursor
		_ = ws.Conn.Close(websocket.StatusNormalClosure, "offline")
		deadline := time.Now().Add(5 * time.Second)
		for w.Live.Stats().Subscribers != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}

		var missed []string
		for i := 1; i <= 3; i++ {
			missed = append(missed, gid(submitFresh(t, w, i)))
		}
		// Fabrikam's events are not ada's to replay.
		testkit.SubmitFreshClaim(t, w, "fiona", "live-fabrikam")

		ws = srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "ada"))
		ws.Subscribe("all", statusSubscription, map[string]any{"after": cursor})
		var got []string
		for range 3 {
			next(t, ws, "all", "claimStatusChanged", &ev)
			got = append(got, ev.Claim.ID)
		}
		if strings.Join(got, ",") != strings.Join(missed, ",") {
			t.Fatalf("replayed %v, want %v", got, missed)
		}
		continuesLive(t, w, ws, "all", 1, 4)
	})
}

// TestReferenceGraphqlWsClient subscribes with the graphql-ws package from
// npm and checks that it receives an event and completes cleanly.
func TestReferenceGraphqlWsClient(t *testing.T) {
	w := testkit.New(t, storage.SQLite)
	srv := apitest.NewServer(t, w)
	claim := claimWithStatus(t, w, contoso, models.Submitted)

	output := startReferenceClient(t, srv, "client.mjs", "CPOR_TOKEN="+apitest.Token(t, "rita"), "CPOR_CLAIM_ID="+gid(claim))
	waitSubscribers(t, w.Live, 1)
	if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(output(), "\n")
	if !strings.Contains(all, `"status":"UNDER_REVIEW"`) || !strings.HasSuffix(all, "done") {
		t.Fatalf("client output: %s", all)
	}
	// Completing the subscription unregistered it.
	deadline := time.Now().Add(5 * time.Second)
	for w.Live.Stats().Subscribers != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the completed subscription is still registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventRenderedOncePerOperationShapeAndAccess(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		claim := claimWithStatus(t, w, contoso, models.Submitted)

		// Five reviewers' connections ask the same thing, so they share
		// one rendering; Ada sees the claim as its partner, so hers is
		// rendered apart (what a claim shows depends on the viewer's
		// access); the legacy protocol shares the reviewers' bytes.
		var subscribers []*apitest.WS
		for i := range 5 {
			protocol := "graphql-transport-ws"
			if i == 4 {
				protocol = "graphql-ws"
			}
			ws := srv.DialWS(t, protocol, nil)
			ws.Init(apitest.Token(t, "rita"))
			ws.Subscribe("s", statusSubscription, map[string]any{"id": gid(claim)})
			subscribers = append(subscribers, ws)
		}
		ada := srv.DialWS(t, "graphql-transport-ws", nil)
		ada.Init(apitest.Token(t, "ada"))
		ada.Subscribe("s", statusSubscription, map[string]any{"id": gid(claim)})
		subscribers = append(subscribers, ada)
		waitSubscribers(t, w.Live, int64(len(subscribers)))

		before := subscriptionRenders(t, srv)
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		for i, ws := range subscribers {
			var ev statusEvent
			next(t, ws, "s", "claimStatusChanged", &ev)
			if ev.Status != "UNDER_REVIEW" || ev.Claim.ID != gid(claim) {
				t.Fatalf("subscriber %d got %+v", i, ev)
			}
		}
		if renders := subscriptionRenders(t, srv) - before; renders != 2 {
			t.Fatalf("one event for two shapes was rendered %d times, want 2", renders)
		}
	})
}

// TestSlowSubscriberEndsWithoutStallingOthersOrSkipping: a client that
// stops reading is ended with SLOW_CONSUMER once its bounded queue is full;
// a subscriber of the same events meanwhile receives every one; and the
// slow one, when it reads again, finds an unbroken run of events before the
// error, so resuming from its last cursor misses nothing.
func TestSlowSubscriberEndsWithoutStallingOthersOrSkipping(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		claim := claimWithStatus(t, w, contoso, models.Submitted)
		vars := map[string]any{"id": gid(claim)}

		slow := srv.DialWSSlowReader(t, "graphql-transport-ws")
		slow.Init(apitest.Token(t, "rita"))
		slow.Subscribe("c", commentSubscription, vars)
		fast := srv.DialWS(t, "graphql-transport-ws", nil)
		fast.Init(apitest.Token(t, "rita"))
		fast.Subscribe("c", commentSubscription, vars)
		waitSubscribers(t, w.Live, 2)

		const comments = 600
		pad := strings.Repeat("x", 9900)
		produced := make(chan error, 1)
		var fastRead atomic.Int64
		go func() {
			for i := range comments {
				// The reading client keeps up: the producer never runs
				// more than half a queue ahead of it.
				for int64(i)-fastRead.Load() > maxQueuedForTest/2 {
					time.Sleep(time.Millisecond)
				}
				if _, err := w.Claims.AddComment(testkit.As("rita"), claim, fmt.Sprintf("%04d %s", i, pad)); err != nil {
					produced <- err
					return
				}
			}
			produced <- nil
		}()
		fastGot := make(chan []int, 1)
		go func() { fastGot <- commentNumbers(fast, comments, &fastRead) }()

		deadline := time.Now().Add(20 * time.Second)
		for w.Live.Stats().Dropped == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the client that stopped reading was never dropped")
			}
			time.Sleep(5 * time.Millisecond)
		}
		var slowGot []int
		for {
			m, err := slow.Read(10 * time.Second)
			if err != nil {
				t.Fatalf("slow client after %d events: %v", len(slowGot), err)
			}
			if m.Type == "error" {
				if !strings.Contains(string(m.Payload), `"code":"SLOW_CONSUMER"`) {
					t.Fatalf("ended with %s", m.Payload)
				}
				break
			}
			slowGot = append(slowGot, commentNumber(t, m))
		}
		for i, n := range slowGot {
			if n != i {
				t.Fatalf("slow client's events skip: %v", slowGot)
			}
		}
		if len(slowGot) >= comments {
			t.Fatalf("the slow client kept up with all %d events", len(slowGot))
		}

		if err := <-produced; err != nil {
			t.Fatal(err)
		}
		got := <-fastGot
		if len(got) != comments {
			t.Fatalf("the reading client got %d of %d events", len(got), comments)
		}
		for i, n := range got {
			if n != i {
				t.Fatalf("the reading client's events are out of order at %d: %d", i, n)
			}
		}
		if dropped := w.Live.Stats().Dropped; dropped != 1 {
			t.Fatalf("%d subscribers dropped, want 1", dropped)
		}
	})
}

// commentNumbers reads up to n comment events and returns the numbers their
// bodies start with; it stops early at anything else.
// commentNumbers reads n comment events, counting them in read.
func commentNumbers(ws *apitest.WS, n int, read *atomic.Int64) []int {
	var got []int
	for len(got) < n {
		m, err := ws.Read(20 * time.Second)
		if err != nil {
			return got
		}
		i, err := parseCommentNumber(m)
		if err != nil {
			return got
		}
		got = append(got, i)
		read.Add(1)
	}
	return got
}

// maxQueuedForTest is the transport's queue of events per subscription.
const maxQueuedForTest = 64

func commentNumber(t *testing.T, m apitest.WSMessage) int {
	t.Helper()
	i, err := parseCommentNumber(m)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// parseCommentNumber reads the number a comment event's body starts with.
func parseCommentNumber(m apitest.WSMessage) (int, error) {
	var body struct {
		Data struct{ CommentAdded commentEvent }
	}
	if err := json.Unmarshal(m.Payload, &body); err != nil || m.Type != "next" {
		return 0, fmt.Errorf("not a comment event: %s %.200s", m.Type, m.Payload)
	}
	text := body.Data.CommentAdded.Comment.Body
	return strconv.Atoi(text[:min(4, len(text))])
}
