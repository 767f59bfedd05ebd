package live_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cpor/live"
	"cpor/testkit"
)

// TestSlowConsumerIsDroppedWithoutStallingOthers: a subscriber that never
// reads is ended with ErrSlowConsumer once its bounded queue is full, while
// a reading subscriber receives every event.
func TestSlowConsumerIsDroppedWithoutStallingOthers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		rita := testkit.Identity("rita")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		ended := make(chan error, 1)
		slowCtx := live.WithHooks(ctx, live.Hooks{Ended: func(err error) { ended <- err }})
		slow, err := live.Subscribe(slowCtx, w.Live, live.Filter{Identity: &rita, Kind: live.StatusChanges},
			live.Options{}, func(d *live.Delivery) *live.Delivery { return d })
		if err != nil {
			t.Fatal(err)
		}
		fast, err := live.Subscribe(ctx, w.Live, live.Filter{Identity: &rita, Kind: live.StatusChanges},
			live.Options{}, func(d *live.Delivery) *live.Delivery { return d })
		if err != nil {
			t.Fatal(err)
		}
		// The reader takes each event before the next commits, so what
		// decides its fate is reading, not how the hub's batches fall.
		const n = 12
		for i := range n {
			testkit.SubmitFreshClaim(t, w, "ada", fmt.Sprintf("slow%d", i))
			select {
			case _, ok := <-fast:
				if !ok {
					t.Fatalf("the reading subscriber was dropped after %d events", i)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("the reading subscriber was stalled after %d events", i)
			}
		}
		select {
		case err := <-ended:
			if !errors.Is(err, live.ErrSlowConsumer) {
				t.Fatalf("slow subscriber ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the slow subscriber was never dropped")
		}
		// Its channel holds at most the queue and then closes.
		kept := 0
		for range slow {
			kept++
		}
		if kept > 4 {
			t.Fatalf("slow subscriber's queue grew to %d", kept)
		}
		if s := w.Live.Stats(); s.Dropped != 1 {
			t.Fatalf("stats: %+v", s)
		}
	}, testkit.Options{Live: live.Config{Buffer: 4, Poll: time.Second, Batch: 16}})
}

// TestExpiredTokenEndsSubscription: access is checked per event, so a
// subscription outliving its token ends at the next event.
func TestExpiredTokenEndsSubscription(t *testing.T) {
	w := testkit.New(t, "sqlite")
	id := testkit.Identity("rita")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, 1)
	ch, err := live.Subscribe(live.WithHooks(ctx, live.Hooks{Ended: func(err error) { ended <- err }}), w.Live,
		live.Filter{Identity: &id, Kind: live.StatusChanges}, live.Options{ExpiresAt: time.Now().Add(50 * time.Millisecond)},
		func(d *live.Delivery) *live.Delivery { return d })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	testkit.SubmitFreshClaim(t, w, "ada", "expired")
	select {
	case err := <-ended:
		if !errors.Is(err, live.ErrExpired) {
			t.Fatalf("ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription outlived its token")
	}
	if _, open := <-ch; open {
		t.Fatal("an event was delivered after the token expired")
	}
}

// TestEveryEventIsCheckedAgainstTheSubscriber: a partner subscribed to
// every claim receives only its organisation's events.
func TestEveryEventIsCheckedAgainstTheSubscriber(t *testing.T) {
	w := testkit.New(t, "sqlite")
	ada := testkit.Identity("ada")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := live.Subscribe(ctx, w.Live, live.Filter{Identity: &ada, Kind: live.StatusChanges}, live.Options{},
		func(d *live.Delivery) *live.Delivery { return d })
	if err != nil {
		t.Fatal(err)
	}
	testkit.SubmitFreshClaim(t, w, "fiona", "theirs")
	mine := testkit.SubmitFreshClaim(t, w, "ada", "mine")
	select {
	case d := <-ch:
		if d.Event.ClaimID != mine || d.Event.OrganizationID != ada.OrganizationID {
			t.Fatalf("ada received %+v", d.Event)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

// TestRenderedOncePerKey: concurrent subscribers of one key share the first
// one's rendering; another key renders on its own; a failed (nil)
// rendering is not kept, so the next subscriber of the key tries again.
func TestRenderedOncePerKey(t *testing.T) {
	var d live.Delivery
	var renders atomic.Int64
	render := func(b string) func() []byte {
		return func() []byte {
			renders.Add(1)
			time.Sleep(time.Millisecond) // let the others pile up behind
			return []byte(b)
		}
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got := string(d.Rendered("a", render("A"))); got != "A" {
				t.Errorf("key a rendered as %q", got)
			}
		})
	}
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Fatalf("50 subscribers of one key rendered %d times", n)
	}
	if got := string(d.Rendered("b", render("B"))); got != "B" || renders.Load() != 2 {
		t.Fatalf("key b: %q after %d renders", got, renders.Load())
	}
	if got := d.Rendered("c", func() []byte { return nil }); got != nil {
		t.Fatalf("failed rendering gave %q", got)
	}
	if got := string(d.Rendered("c", render("C"))); got != "C" {
		t.Fatalf("key c after a failure rendered as %q", got)
	}
}
