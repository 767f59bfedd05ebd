package workflow_test

// Concurrency tests: many callers firing transitions at the same claims at
// the same instant. Each test releases its goroutines together by closing a
// channel, gives every call a deadline (a deadlock shows up as an uncoded
// context error instead of a hung test) and then checks what the database
// holds. They run on PostgreSQL (row and advisory locks) and on SQLite
// (IMMEDIATE transactions, one writer at a time).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/claims"
	"cpor/events"
	"cpor/models"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/workflow"
)

// concCallTimeout bounds each service call; hitting it means a lock was never
// granted.
const concCallTimeout = 90 * time.Second

// concAs returns the demo user's context with the call deadline.
func concAs(t *testing.T, handle string) context.Context {
	ctx, cancel := context.WithTimeout(testkit.As(handle), concCallTimeout)
	t.Cleanup(cancel)
	return ctx
}

// concEachDialect runs fn on a fresh seeded world of every dialect.
func concEachDialect(t *testing.T, fn func(t *testing.T, w *testkit.World)) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, testkit.New(t, d)) })
	}
}

// concOutcomes collects what concurrent calls returned.
type concOutcomes struct {
	mu     sync.Mutex
	ok     int
	codes  map[apperr.Code]int
	uncode []string // errors that carry no code: internal failures
}

func newConcOutcomes() *concOutcomes { return &concOutcomes{codes: map[apperr.Code]int{}} }

func (o *concOutcomes) add(what string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err == nil {
		o.ok++
		return
	}
	list, ok := apperr.All(err)
	if !ok || len(list) == 0 {
		o.uncode = append(o.uncode, fmt.Sprintf("%s: %v (%T)", what, err, errors.Unwrap(err)))
		return
	}
	for _, e := range list {
		o.codes[e.Code]++
	}
}

// check fails the test for every uncoded error and every code outside
// allowed.
func (o *concOutcomes) check(t *testing.T, allowed ...apperr.Code) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, u := range o.uncode {
		if i == 10 {
			t.Errorf("… and %d more uncoded errors", len(o.uncode)-10)
			break
		}
		t.Errorf("uncoded (internal) error: %s", u)
	}
	for code, n := range o.codes {
		if !slices.Contains(allowed, code) {
			t.Errorf("%d calls failed with %s; only %v are expected", n, code, allowed)
		}
	}
}

func (o *concOutcomes) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("ok=%d codes=%v uncoded=%d", o.ok, o.codes, len(o.uncode))
}

// concRace starts n goroutines running fn(i), releases them together and waits
// for all of them.
func concRace(t *testing.T, n int, fn func(i int)) {
	t.Helper()
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(concCallTimeout + 30*time.Second):
		t.Fatalf("%d goroutines did not finish: deadlock or lost wake-up", n)
	}
}

// concTarget is a fresh customer tenant with one active Dynamics 365 Sales
// subscription that nobody has claimed yet.
type concTarget struct {
	name        string
	tenant, sub uuid.UUID
	product     uuid.UUID
	domain      string
	contosoMpn  uuid.UUID
	fabrikamMpn uuid.UUID
}

func newConcTarget(t *testing.T, w *testkit.World, name string) concTarget {
	t.Helper()
	tenant, sub := testkit.FreshTarget(t, w, name)
	return concTarget{
		name: name, tenant: tenant, sub: sub, domain: name + ".onmicrosoft.com",
		product:     testkit.ProductID(t, w, "D365_SALES"),
		contosoMpn:  testkit.EnrolledMpn(t, w, testkit.Identity("ada").OrganizationID),
		fabrikamMpn: testkit.EnrolledMpn(t, w, testkit.Identity("fiona").OrganizationID),
	}
}

// concClaimAndSubmit is the partner's whole flow as handle: create the draft,
// attach a PDF and submit. It returns the claim ID, or the first error.
func concClaimAndSubmit(ctx context.Context, w *testkit.World, handle string, tg concTarget) (uuid.UUID, error) {
	area, act := models.BusinessApplications, models.Usage
	tenantID, subID, domain := tg.tenant.String(), tg.sub.String(), tg.domain
	product := tg.product
	mpn := tg.contosoMpn
	if handle == "fiona" {
		mpn = tg.fabrikamMpn
	}
	c, err := w.Claims.Create(ctx, claims.DraftInput{
		SolutionArea: &area, Activity: &act, CustomerTenantID: &tenantID, CustomerDomain: &domain,
		ProductID: &product, SubscriptionID: &subID, MpnID: &mpn,
		CustomerContact: &claims.ContactInput{Name: "Dana", Title: "CIO", Email: "dana@" + domain},
		PartnerContact:  &claims.ContactInput{Name: "Sam", Email: "sam@partner.example"},
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("create: %w", err)
	}
	if _, err := w.Claims.Attach(ctx, c.ID, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(testkit.PDF)}); err != nil {
		return c.ID, fmt.Errorf("attach: %w", err)
	}
	if _, err := w.Workflow.Submit(ctx, workflow.Request{ClaimID: c.ID}); err != nil {
		return c.ID, fmt.Errorf("submit: %w", err)
	}
	return c.ID, nil
}

func concLoadClaim(t *testing.T, db *gorm.DB, id uuid.UUID) models.Claim {
	t.Helper()
	var c models.Claim
	if err := db.Where("id = ?", id).Take(&c).Error; err != nil {
		t.Fatalf("load claim %s: %v", id, err)
	}
	return c
}

// concDuplicateActive lists every customer, product and activity
// with more than one active association.
func concDuplicateActive(db *gorm.DB) ([]string, error) {
	var rows []struct {
		CustomerTenantID string
		ProductID        string
		Activity         string
		N                int
	}
	err := db.Raw(`SELECT customer_tenant_id, product_id, activity, COUNT(*) AS n
		FROM associations WHERE ended_at IS NULL
		GROUP BY customer_tenant_id, product_id, activity HAVING COUNT(*) > 1`).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s/%s/%s: %d active", r.CustomerTenantID, r.ProductID, r.Activity, r.N))
	}
	return out, nil
}

// TestConcurrentDecisionsOnOneClaim: 50 reviewers approve or reject one
// claim under review at the same instant. Exactly one decision commits;
// every other call is INVALID_TRANSITION or STALE_CLAIM; the history holds
// one decision and the claim at most one association.
func TestConcurrentDecisionsOnOneClaim(t *testing.T) {
	const callers = 50
	concEachDialect(t, func(t *testing.T, w *testkit.World) {
		for m, mode := range []string{"without expectedVersion", "with expectedVersion", "mixed"} {
			t.Run(mode, func(t *testing.T) {
				name := fmt.Sprintf("decide-%d", m)
				claimID := testkit.SubmitFreshClaim(t, w, "ada", name)
				reviewed, err := w.Workflow.StartReview(concAs(t, "rita"), workflow.Request{ClaimID: claimID})
				if err != nil {
					t.Fatalf("start review: %v", err)
				}
				if reviewed.Status != models.UnderReview {
					t.Fatalf("claim is %s after startReview; want UNDER_REVIEW (no competition)", reviewed.Status)
				}
				version := reviewed.Version
				out := newConcOutcomes()
				var winners []*models.Claim
				var winMu sync.Mutex
				concRace(t, callers, func(i int) {
					req := workflow.Request{ClaimID: claimID, Reason: fmt.Sprintf("decision %d", i)}
					if mode == "with expectedVersion" || (mode == "mixed" && i%3 != 0) {
						v := version
						req.ExpectedVersion = &v
					}
					ctx := concAs(t, "rita")
					var c *models.Claim
					var err error
					if i%2 == 0 {
						c, err = w.Workflow.Approve(ctx, req)
					} else {
						c, err = w.Workflow.Reject(ctx, req)
					}
					out.add(fmt.Sprintf("call %d", i), err)
					if err == nil {
						winMu.Lock()
						winners = append(winners, c)
						winMu.Unlock()
					}
				})
				t.Logf("%s", out)
				out.check(t, apperr.InvalidTransition, apperr.StaleClaim)
				if out.ok != 1 || len(winners) != 1 {
					t.Fatalf("%d decisions committed; want exactly 1 (%s)", out.ok, out)
				}
				// The codes follow from what each loser sent: a version that
				// moved on is STALE_CLAIM, a decided claim without a version
				// is INVALID_TRANSITION.
				switch mode {
				case "without expectedVersion":
					if out.codes[apperr.InvalidTransition] != callers-1 {
						t.Errorf("losers without a version: %v; want %d INVALID_TRANSITION", out.codes, callers-1)
					}
				case "with expectedVersion":
					if out.codes[apperr.StaleClaim] != callers-1 {
						t.Errorf("losers with the read version: %v; want %d STALE_CLAIM", out.codes, callers-1)
					}
				}

				final := concLoadClaim(t, w.DB, claimID)
				win := winners[0]
				if final.Status != win.Status || (final.Status != models.Approved && final.Status != models.Rejected) {
					t.Fatalf("claim is %s; the committed call returned %s", final.Status, win.Status)
				}
				if final.Version != version+1 {
					t.Errorf("version = %d; want %d (one transition)", final.Version, version+1)
				}
				if final.DecidedAt == nil || final.DecisionReason != win.DecisionReason {
					t.Errorf("decision = %v %q; the winner wrote %q", final.DecidedAt, final.DecisionReason, win.DecisionReason)
				}
				var decisions []models.ClaimEvent
				if err := w.DB.Where("claim_id = ? AND type = ? AND to_status IN ?", claimID, models.EventStatusChanged,
					[]models.ClaimStatus{models.Approved, models.Rejected}).Find(&decisions).Error; err != nil {
					t.Fatal(err)
				}
				if len(decisions) != 1 || *decisions[0].FromStatus != models.UnderReview || *decisions[0].ToStatus != final.Status {
					t.Fatalf("decision events = %+v; want one UNDER_REVIEW -> %s", decisions, final.Status)
				}
				if decisions[0].Version != final.Version {
					t.Errorf("decision event at version %d; claim at %d", decisions[0].Version, final.Version)
				}
				var assocs []models.Association
				if err := w.DB.Where("claim_id = ?", claimID).Find(&assocs).Error; err != nil {
					t.Fatal(err)
				}
				want := 0
				if final.Status == models.Approved {
					want = 1
				}
				if len(assocs) != want {
					t.Fatalf("%d associations for a %s claim; want %d", len(assocs), final.Status, want)
				}
				if dups, err := concDuplicateActive(w.DB); err != nil || len(dups) > 0 {
					t.Fatalf("duplicate active associations: %v %v", dups, err)
				}
			})
		}
	})
}

// TestConcurrentCompetingClaims: Contoso (ada) and Fabrikam (fiona) race to
// claim the same subscription, round after round; reviewers then start the
// reviews, approve both claims and resolve the arbitration case from
// several goroutines at once. The database never holds two active
// associations for one customer, product and activity, and every error is
// a coded one.
func TestConcurrentCompetingClaims(t *testing.T) {
	concEachDialect(t, func(t *testing.T, w *testkit.World) {
		rounds, reviewers := 20, 8
		if w.Dialect == storage.SQLite {
			rounds = 8
		}
		if testing.Short() {
			rounds = 3
		}
		// A watcher checks the invariant continuously while the rounds run.
		stop := make(chan struct{})
		watched := make(chan []string, 1)
		go func() {
			var seen []string
			defer func() { watched <- seen }()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if dups, err := concDuplicateActive(w.DB); err == nil && len(dups) > 0 {
					seen = append(seen, dups...)
				}
			}
		}()
		defer func() {
			close(stop)
			if seen := <-watched; len(seen) > 0 {
				t.Errorf("the watcher saw two active associations: %v", seen)
			}
		}()

		partners, reviews := newConcOutcomes(), newConcOutcomes()
		for round := 0; round < rounds; round++ {
			tg := newConcTarget(t, w, fmt.Sprintf("race-%02d", round))
			// Both partners claim the subscription at the same instant.
			ids := make([]uuid.UUID, 2)
			handles := []string{"ada", "fiona"}
			concRace(t, 2, func(i int) {
				id, err := concClaimAndSubmit(concAs(t, handles[i]), w, handles[i], tg)
				ids[i] = id
				partners.add(handles[i], err)
			})
			if partners.ok != 2*(round+1) {
				t.Fatalf("round %d: partners could not both submit: %s", round, partners)
			}
			if round%2 == 1 {
				// Odd rounds first let the reviewers act in any order: approve
				// before the review starts, escalate, ask for information,
				// approve with the version they read, resolve for either claim.
				concRace(t, reviewers, func(i int) {
					rng := rand.New(rand.NewPCG(uint64(round), uint64(100+i)))
					concChaos(concAs(t, "rita"), w, tg, ids, rng, reviews, round)
				})
			}
			// Reviewers start the reviews, approve and resolve, all at once.
			concRace(t, reviewers, func(i int) {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
				ctx := concAs(t, "rita")
				order := []int{0, 1}
				rng.Shuffle(2, func(a, b int) { order[a], order[b] = order[b], order[a] })
				for _, k := range order {
					_, err := w.Workflow.StartReview(ctx, workflow.Request{ClaimID: ids[k]})
					reviews.add(fmt.Sprintf("round %d: startReview %d", round, k), err)
				}
				rng.Shuffle(2, func(a, b int) { order[a], order[b] = order[b], order[a] })
				for _, k := range order {
					_, err := w.Workflow.Approve(ctx, workflow.Request{ClaimID: ids[k], Reason: "approved in the race"})
					reviews.add(fmt.Sprintf("round %d: approve %d", round, k), err)
					if i%2 == 1 {
						concResolveOpenCases(ctx, w, tg, ids[rng.IntN(2)], reviews, round)
					}
				}
				concResolveOpenCases(ctx, w, tg, ids[rng.IntN(2)], reviews, round)
			})
			if t.Failed() {
				break
			}
			concCheckRound(t, w, tg, ids, round)
		}
		t.Logf("partners: %s", partners)
		t.Logf("reviewers: %s", reviews)
		partners.check(t)
		// A reviewer who lost a race sees the claim moved on
		// (INVALID_TRANSITION), a resolution of a case already decided, or
		// a winner no longer in the case (INVALID_INPUT).
		reviews.check(t, apperr.InvalidTransition, apperr.StaleClaim, apperr.InvalidInput)
	})
}

// concChaos fires the reviewer's actions on the round's claims in a random order.
func concChaos(ctx context.Context, w *testkit.World, tg concTarget, ids []uuid.UUID, rng *rand.Rand, out *concOutcomes, round int) {
	actions := []func(){
		func() {
			k := rng.IntN(2)
			_, err := w.Workflow.StartReview(ctx, workflow.Request{ClaimID: ids[k]})
			out.add(fmt.Sprintf("round %d: startReview %d", round, k), err)
		},
		func() {
			k := rng.IntN(2)
			_, err := w.Workflow.Approve(ctx, workflow.Request{ClaimID: ids[k], Reason: "approved early"})
			out.add(fmt.Sprintf("round %d: approve %d", round, k), err)
		},
		func() {
			k := rng.IntN(2)
			c, err := w.Claims.Get(ctx, ids[k])
			if err != nil {
				out.add("get", err)
				return
			}
			v := c.Version
			_, err = w.Workflow.Approve(ctx, workflow.Request{ClaimID: ids[k], ExpectedVersion: &v, Reason: "approved as read"})
			out.add(fmt.Sprintf("round %d: approve %d at version %d", round, k, v), err)
		},
		func() {
			k := rng.IntN(2)
			_, err := w.Workflow.Escalate(ctx, workflow.Request{ClaimID: ids[k], Reason: "referred"})
			out.add(fmt.Sprintf("round %d: escalate %d", round, k), err)
		},
		func() {
			k := rng.IntN(2)
			_, err := w.Workflow.RequestInformation(ctx, workflow.Request{ClaimID: ids[k], Reason: "Send the latest adoption report."})
			out.add(fmt.Sprintf("round %d: requestInformation %d", round, k), err)
			// The partner answers at once (ids[0] is ada's, ids[1] fiona's),
			// racing the reviewer's next action.
			partner := auth.WithIdentity(ctx, ptrTo(testkit.Identity([]string{"ada", "fiona"}[k])))
			_, err = w.Workflow.Respond(partner, workflow.Request{ClaimID: ids[k], Reason: "Attached the report."})
			out.add(fmt.Sprintf("round %d: respond %d", round, k), err)
		},
		func() { concResolveOpenCases(ctx, w, tg, ids[rng.IntN(2)], out, round) },
	}
	for n := 0; n < 6; n++ {
		actions[rng.IntN(len(actions))]()
	}
}

// concResolveOpenCases resolves, for winner, every open case on the target.
func concResolveOpenCases(ctx context.Context, w *testkit.World, tg concTarget, winner uuid.UUID, out *concOutcomes, round int) {
	var cases []models.ArbitrationCase
	if err := w.DB.Where("customer_tenant_id = ? AND status = ?", tg.tenant, models.ArbitrationOpen).Find(&cases).Error; err != nil {
		out.add("list cases", err)
		return
	}
	for _, cs := range cases {
		_, err := w.Workflow.ResolveArbitration(ctx, cs.ID, winner, "resolved in the race")
		out.add(fmt.Sprintf("round %d: resolve", round), err)
	}
}

// concCheckRound: after the reviewers are done the target has exactly one
// active association, no claim is left waiting, no case is left open, and
// every claim's history is one path through the state machine.
func concCheckRound(t *testing.T, w *testkit.World, tg concTarget, ids []uuid.UUID, round int) {
	t.Helper()
	if dups, err := concDuplicateActive(w.DB); err != nil || len(dups) > 0 {
		t.Fatalf("round %d: duplicate active associations: %v %v", round, dups, err)
	}
	var active []models.Association
	if err := w.DB.Where("customer_tenant_id = ? AND ended_at IS NULL", tg.tenant).Find(&active).Error; err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 {
		t.Errorf("round %d: %d active associations; want 1", round, len(active))
	}
	var open int64
	if err := w.DB.Model(&models.ArbitrationCase{}).Where("customer_tenant_id = ? AND status = ?", tg.tenant, models.ArbitrationOpen).
		Count(&open).Error; err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("round %d: %d arbitration cases left open", round, open)
	}
	for _, id := range ids {
		c := concLoadClaim(t, w.DB, id)
		if c.Status.IsOpen() {
			t.Errorf("round %d: claim %s left %s", round, id, c.Status)
		}
		if len(active) == 1 && active[0].ClaimID == id && c.Status != models.Approved {
			t.Errorf("round %d: the active association's claim is %s", round, c.Status)
		}
		concCheckHistory(t, w.DB, c)
	}
}

// concCheckHistory: the claim's status events chain from DRAFT to its current
// status, each at the next version, in sequence order.
func concCheckHistory(t *testing.T, db *gorm.DB, c models.Claim) {
	t.Helper()
	var evs []models.ClaimEvent
	if err := db.Where("claim_id = ? AND type = ?", c.ID, models.EventStatusChanged).Order("seq").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	at := models.Draft
	for _, ev := range evs {
		if *ev.FromStatus != at {
			t.Errorf("claim %s: event %d goes %s -> %s but the claim was %s", c.ID, ev.Seq, *ev.FromStatus, *ev.ToStatus, at)
		}
		at = *ev.ToStatus
	}
	if at != c.Status {
		t.Errorf("claim %s: history ends at %s; the claim is %s", c.ID, at, c.Status)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Version <= evs[i-1].Version {
			t.Errorf("claim %s: versions %d then %d in the history", c.ID, evs[i-1].Version, evs[i].Version)
		}
	}
	if n := len(evs); n > 0 && evs[n-1].Version != c.Version {
		t.Errorf("claim %s: last status event at version %d, claim at %d", c.ID, evs[n-1].Version, c.Version)
	}
}

// TestConcurrentCommentsAndUploadsKeepEventOrder: partners and reviewers
// comment on and upload to one claim at once while a reader follows the
// event log as a live subscription does ("every event after n", up to a
// settled mark, see events/settled.go). The reader
// never sees a sequence number appear below one it has already seen: what
// it sees is always a prefix of the final log.
func TestConcurrentCommentsAndUploadsKeepEventOrder(t *testing.T) {
	concEachDialect(t, func(t *testing.T, w *testkit.World) {
		claimID := testkit.SubmitFreshClaim(t, w, "ada", "busy-thread")
		var base int64
		if err := w.DB.Model(&models.ClaimEvent{}).Select("COALESCE(MAX(seq), 0)").Scan(&base).Error; err != nil {
			t.Fatal(err)
		}
		const writers, each = 12, 6
		var snapshots [][]int64
		var writing atomic.Bool
		writing.Store(true)
		readerDone := make(chan error, 1)
		go func() {
			for writing.Load() {
				// Up to a settled mark, as the hub reads: events commit out
				// of sequence order, but never below a settled mark.
				settled, err := events.Settled(context.Background(), w.DB)
				if err != nil {
					readerDone <- err
					return
				}
				var seqs []int64
				if err := w.DB.Model(&models.ClaimEvent{}).Where("seq > ? AND seq <= ?", base, settled).Order("seq").Pluck("seq", &seqs).Error; err != nil {
					readerDone <- err
					return
				}
				snapshots = append(snapshots, seqs)
			}
			readerDone <- nil
		}()
		out := newConcOutcomes()
		concRace(t, writers, func(i int) {
			for j := 0; j < each; j++ {
				var err error
				switch (i + j) % 3 {
				case 0:
					_, err = w.Claims.AddComment(concAs(t, "ada"), claimID, fmt.Sprintf("partner note %d.%d", i, j))
				case 1:
					_, err = w.Claims.AddComment(concAs(t, "rita"), claimID, fmt.Sprintf("reviewer note %d.%d", i, j))
				default:
					_, err = w.Claims.Attach(concAs(t, "ada"), claimID, claims.Upload{
						FileName: fmt.Sprintf("proof-%d-%d.txt", i, j),
						Content:  strings.NewReader(fmt.Sprintf("ongoing work, report %d.%d\n", i, j)),
					})
				}
				out.add(fmt.Sprintf("writer %d.%d", i, j), err)
			}
		})
		writing.Store(false)
		if err := <-readerDone; err != nil {
			t.Fatalf("reader: %v", err)
		}
		t.Logf("%s; %d reader snapshots", out, len(snapshots))
		out.check(t)
		if out.ok != writers*each {
			t.Fatalf("%d of %d writes committed", out.ok, writers*each)
		}

		var final []models.ClaimEvent
		if err := w.DB.Where("seq > ?", base).Order("seq").Find(&final).Error; err != nil {
			t.Fatal(err)
		}
		if len(final) != writers*each {
			t.Fatalf("%d events after the writes; want %d", len(final), writers*each)
		}
		var comments, docs int
		for i, ev := range final {
			if ev.ClaimID != claimID {
				t.Errorf("event %d is on another claim", ev.Seq)
			}
			if i > 0 && ev.Seq <= final[i-1].Seq {
				t.Errorf("sequence not strictly increasing: %d after %d", ev.Seq, final[i-1].Seq)
			}
			switch ev.Type {
			case models.EventCommentAdded:
				comments++
			case models.EventDocumentAttached:
				docs++
			default:
				t.Errorf("unexpected event %s", ev.Type)
			}
		}
		if comments != writers*each*2/3 || docs != writers*each/3 {
			t.Errorf("%d comment and %d document events; want %d and %d", comments, docs, writers*each*2/3, writers*each/3)
		}
		all := make([]int64, len(final))
		for i, ev := range final {
			all[i] = ev.Seq
		}
		for n, snap := range snapshots {
			if len(snap) == 0 {
				continue
			}
			last := snap[len(snap)-1]
			k := sort.Search(len(all), func(i int) bool { return all[i] > last })
			if !slices.Equal(snap, all[:k]) {
				t.Fatalf("snapshot %d saw %v, but the log up to %d is %v: a later commit filled a gap the reader had passed",
					n, snap, last, all[:k])
			}
		}
	})
}

// TestConcurrentUploadsDuringEscalation: a partner keeps adding proof of
// execution to its claim under review while a reviewer starts the review of
// another organisation's competing claim, which moves both claims into
// arbitration. Uploads and the escalation lock the same claim row and both
// append to the event log; neither may deadlock or fail.
func TestConcurrentUploadsDuringEscalation(t *testing.T) {
	concEachDialect(t, func(t *testing.T, w *testkit.World) {
		rounds := 10
		if testing.Short() {
			rounds = 2
		}
		uploads, reviews := newConcOutcomes(), newConcOutcomes()
		failedRounds := 0
		for round := 0; round < rounds; round++ {
			tg := newConcTarget(t, w, fmt.Sprintf("escalate-%02d", round))
			held, err := concClaimAndSubmit(concAs(t, "fiona"), w, "fiona", tg)
			if err != nil {
				t.Fatalf("fiona's claim: %v", err)
			}
			if _, err := w.Workflow.StartReview(concAs(t, "rita"), workflow.Request{ClaimID: held}); err != nil {
				t.Fatalf("start review of fiona's claim: %v", err)
			}
			challenger, err := concClaimAndSubmit(concAs(t, "ada"), w, "ada", tg)
			if err != nil {
				t.Fatalf("ada's claim: %v", err)
			}
			var escalated atomic.Bool
			const uploaders = 8
			concRace(t, uploaders+1, func(i int) {
				if i == uploaders {
					_, err := w.Workflow.StartReview(concAs(t, "rita"), workflow.Request{ClaimID: challenger})
					reviews.add(fmt.Sprintf("round %d: startReview", round), err)
					escalated.Store(true)
					return
				}
				// Keep uploading until the escalation is over, staying under
				// the 50 documents a claim may hold.
				for j := 0; j < 6 && (j < 2 || !escalated.Load()); j++ {
					_, err := w.Claims.Attach(concAs(t, "fiona"), held, claims.Upload{
						FileName: fmt.Sprintf("update-%d-%d.txt", i, j),
						Content:  strings.NewReader(fmt.Sprintf("weekly adoption report %d.%d\n", i, j)),
					})
					uploads.add(fmt.Sprintf("round %d: upload %d.%d", round, i, j), err)
				}
			})
			if reviews.ok+failedRounds != round+1 {
				failedRounds++
				t.Errorf("round %d: the escalating startReview failed: %s", round, reviews)
				continue
			}
			for _, id := range []uuid.UUID{held, challenger} {
				c := concLoadClaim(t, w.DB, id)
				if c.Status != models.Arbitration || c.ArbitrationCaseID == nil {
					t.Errorf("round %d: claim %s is %s, case %v; want both in one arbitration case", round, id, c.Status, c.ArbitrationCaseID)
				}
				concCheckHistory(t, w.DB, c)
			}
		}
		t.Logf("uploads: %s", uploads)
		t.Logf("reviews: %s; %d of %d rounds failed", reviews, failedRounds, rounds)
		uploads.check(t)
		reviews.check(t)
	})
}

func ptrTo[T any](v T) *T { return &v }
