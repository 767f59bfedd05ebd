package events_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cpor/events"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
	"cpor/workflow"
)

// BenchmarkConcurrentLifecycles runs whole claim lifecycles (a fresh
// customer target, create, attach proof, submit, start review, approve:
// every one of them appends events) from 8 and 32 goroutines at once, to
// show how commits scale while all of them write to the one event log.
//
//	TEST_DATABASE_URL=postgres://… go test ./events -run '^$' -bench ConcurrentLifecycles -benchtime 400x
func BenchmarkConcurrentLifecycles(b *testing.B) {
	for _, writers := range []int{8, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			w := testkit.New(b, storage.Postgres)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range writers {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						lifecycle(b, w, fmt.Sprintf("bench-%d-%d", g, i))
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lifecycles/s")
		})
	}
}

func lifecycle(b *testing.B, w *testkit.World, name string) {
	claim := testkit.SubmitFreshClaim(b, w, "ada", name)
	if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
		b.Error(err)
		return
	}
	if _, err := w.Workflow.Approve(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
		b.Error(err)
	}
}

// BenchmarkConcurrentAppends commits transactions that only append one
// event each, from 8 and 32 goroutines: the event log's own ceiling, with
// as little else as possible in the way (on a durable server, each commit
// waits for its WAL flush; commits that may overlap share flushes).
//
//	TEST_DATABASE_URL=postgres://… go test ./events -run '^$' -bench ConcurrentAppends -benchtime 5000x
func BenchmarkConcurrentAppends(b *testing.B) {
	for _, writers := range []int{8, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			w := testkit.New(b, storage.Postgres)
			claim := testkit.SubmitFreshClaim(b, w, "ada", "appends")
			org := testkit.Identity("ada").OrganizationID
			log := events.NewLog(nil)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range writers {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						err := storage.InTx(context.Background(), w.DB, func(tx *storage.Tx) error {
							return log.Append(tx, &models.ClaimEvent{
								ClaimID: claim, OrganizationID: org, Type: models.EventUpdated, Version: int(i),
								ActorID: "bench", ActorName: "bench", ActorKind: models.ActorSystem,
							})
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
		})
	}
}
