package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/live"
	"cpor/storage"
	"cpor/testkit"
	"cpor/workflow"
)

// quietConfig polls rarely, so that what a test counts is what the events
// themselves cost.
var quietConfig = live.Config{Buffer: 64, Poll: time.Hour, Batch: 256}

// TestHubSendsNoStatementWithoutSubscribers: a comment and a status change
// committed while nobody subscribes cost the statements of their own
// transactions and not one more: the hub reads nothing.
func TestHubSendsNoStatementWithoutSubscribers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "nobody-listens")
		assertHubSilent(t, w, claim)
	}, testkit.Options{Live: quietConfig})
}

// TestHubSendsNoStatementForEventsNobodyMaySee: subscribers of another
// claim, and a partner following every claim of another organisation,
// cannot see the events of this claim: the hub reads nothing for them. A
// reviewer who then subscribes receives the next event, which the hub
// reads.
func TestHubSendsNoStatementForEventsNobodyMaySee(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		other := testkit.SubmitFreshClaim(t, w, "ada", "someone-elses")
		claim := testkit.SubmitFreshClaim(t, w, "ada", "unwatched")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rita, fiona := testkit.Identity("rita"), testkit.Identity("fiona")
		subscribe(t, ctx, w, live.Filter{Identity: &rita, Kind: live.StatusChanges, ClaimID: &other})
		subscribe(t, ctx, w, live.Filter{Identity: &rita, Kind: live.Comments, ClaimID: &other})
		subscribe(t, ctx, w, live.Filter{Identity: &fiona, Kind: live.StatusChanges})
		assertHubSilent(t, w, claim)

		watching := subscribe(t, ctx, w, live.Filter{Identity: &rita, Kind: live.Comments, ClaimID: &claim})
		before := storage.StatementsSent(w.DB)
		if _, err := w.Claims.AddComment(testkit.As("rita"), claim, "now someone listens"); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-watching:
			if d.Comment == nil || d.Comment.Body != "now someone listens" {
				t.Fatalf("received %+v", d.Event)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the subscriber of the claim received nothing")
		}
		if storage.StatementsSent(w.DB) == before {
			t.Fatal("an event delivered without a statement")
		}
	}, testkit.Options{Live: quietConfig})
}

func subscribe(t *testing.T, ctx context.Context, w *testkit.World, f live.Filter) <-chan *live.Delivery {
	t.Helper()
	ch, err := live.Subscribe(ctx, w.Live, f, live.Options{}, func(d *live.Delivery) *live.Delivery { return d })
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// assertHubSilent commits a comment and a status change on claim, counting
// their own statements, and fails if the database was sent any other.
func assertHubSilent(t *testing.T, w *testkit.World, claim uuid.UUID) {
	t.Helper()
	quiesce(t, w)
	before := storage.StatementsSent(w.DB)
	comment, commentTally := storage.WithTally(testkit.As("rita"))
	if _, err := w.Claims.AddComment(comment, claim, "is anyone there?"); err != nil {
		t.Fatal(err)
	}
	review, reviewTally := storage.WithTally(testkit.As("rita"))
	if _, err := w.Workflow.StartReview(review, workflow.Request{ClaimID: claim}); err != nil {
		t.Fatal(err)
	}
	// No Settle here: it reads the log itself and wakes the hub. The
	// commits announced themselves before returning; NOTIFY takes longer.
	time.Sleep(200 * time.Millisecond)
	own := commentTally.Statements() + reviewTally.Statements()
	if sent := storage.StatementsSent(w.DB) - before; sent != own {
		t.Fatalf("%d statements sent for two commits of %d: the hub sent %d", sent, own, sent-own)
	}
}

// quiesce waits until the hub has done what earlier commits and new
// subscriptions asked of it (a new subscriber makes it catch up to a
// settled point, on its own goroutine): no statement for 300 ms.
func quiesce(t *testing.T, w *testkit.World) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := storage.StatementsSent(w.DB)
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		now := storage.StatementsSent(w.DB)
		if now == last {
			return
		}
		last = now
	}
	t.Fatal("the hub never went quiet")
}
