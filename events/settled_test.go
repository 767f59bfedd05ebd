package events_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/events"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
)

// TestReaderOfSettledMarksNeverSkips: many writers append events and hold
// their transactions open for a random while after drawing their sequence
// numbers, so that rows commit out of sequence order, while a reader
// follows the log as the hub does (every event after its cursor up to a
// settled mark). It must see every event exactly once, in sequence order:
// no row may commit below a mark the reader has passed.
func TestReaderOfSettledMarksNeverSkips(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		claim := testkit.SubmitFreshClaim(t, w, "ada", "settled-marks")
		org := testkit.Identity("ada").OrganizationID
		base, err := events.Settled(context.Background(), w.DB)
		if err != nil {
			t.Fatal(err)
		}
		const writers, each = 16, 25
		var writing atomic.Bool
		writing.Store(true)
		seen := make(chan []int64, 1)
		go func() { seen <- follow(t, w.DB, base, &writing) }()

		log := events.NewLog(nil)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				for j := range each {
					if err := appendSlowly(w.DB, log, claim, org, i*each+j); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		writing.Store(false)
		got := <-seen

		var all []int64
		if err := w.DB.Model(&models.ClaimEvent{}).Where("seq > ?", base).Order("seq").Pluck("seq", &all).Error; err != nil {
			t.Fatal(err)
		}
		if len(all) != writers*each {
			t.Fatalf("%d events written, want %d", len(all), writers*each)
		}
		if !slices.Equal(got, all) {
			i := firstDifference(got, all)
			t.Fatalf("the reader saw %d events, the log has %d; from the first difference, it saw %v, the log has %v",
				len(got), len(all), got[i:min(i+5, len(got))], all[i:min(i+5, len(all))])
		}
	})
}

// appendSlowly appends one event and keeps its transaction open a little
// after the row is written, so that a later writer may commit first.
func appendSlowly(db *gorm.DB, log *events.Log, claim, org uuid.UUID, n int) error {
	return storage.InTx(context.Background(), db, func(tx *storage.Tx) error {
		err := log.Append(tx, &models.ClaimEvent{
			ClaimID: claim, OrganizationID: org, Type: models.EventUpdated, Version: n,
			ActorID: "race", ActorName: "race", ActorKind: models.ActorSystem,
		})
		tx.BeforeCommit(func(*storage.Tx) error {
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			return nil
		})
		return err
	})
}

// follow reads the log from base as the hub does until writing stops and
// one last settled mark has been read.
func follow(t *testing.T, db *gorm.DB, base int64, writing *atomic.Bool) []int64 {
	var got []int64
	cursor := base
	for {
		more := writing.Load()
		settled, err := events.Settled(context.Background(), db)
		if err != nil {
			t.Error(err)
			return got
		}
		var seqs []int64
		if err := db.Model(&models.ClaimEvent{}).Where("seq > ? AND seq <= ?", cursor, settled).Order("seq").Pluck("seq", &seqs).Error; err != nil {
			t.Error(err)
			return got
		}
		got = append(got, seqs...)
		cursor = max(cursor, settled)
		if !more {
			return got
		}
	}
}

func firstDifference(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
