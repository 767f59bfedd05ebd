package events

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
)

// Reading the log in order without a commit-order lock.
//
// Writers draw sequence numbers as they insert and commit in any order, so
// a reader that has seen event n may later find a committed event below
// n. A reader therefore only follows the log up to a settled mark: a
// sequence number at or below which nothing can commit any more.
//
// On PostgreSQL a mark is taken in two statements: first the sequence's
// last drawn value L, then the transactions in progress that write events.
// Every writer gets its transaction id (write does so) and its INSERT's
// lock on claim_events before it draws a number, and keeps both until it
// ends, so a transaction that drew a number at or below L has ended or is
// in that list. Once every transaction of the list has ended, every event
// at or below L is committed or never will be, and "every event after my
// cursor, up to L" is complete. Readers wait for the writers in flight;
// writers never wait for each other.
//
// On SQLite one writer runs at a time, so numbers commit in order and the
// newest committed number is settled at once.

// Mark is a sequence number and the transactions that must end before
// every event at or below it has settled.
type Mark struct {
	Seq      int64
	inFlight []uint64
}

// Snapshot is which writing transactions were in progress at one moment
// (PostgreSQL's pg_current_snapshot); empty on SQLite.
type Snapshot struct {
	xmin, xmax uint64
	inProgress map[uint64]bool
}

// ended reports whether transaction xid is over in the snapshot. An id at
// or past xmax is still running: PostgreSQL's xmax is one past the newest
// transaction to have ended, and its list names only running ids below it.
func (s Snapshot) ended(xid uint64) bool {
	return xid < s.xmin || (xid < s.xmax && !s.inProgress[xid])
}

// widen turns a 32-bit transaction id (as pg_locks shows it) of a running
// transaction into the 64-bit id of the snapshot's epoch: the one nearest
// to xmax.
func (s Snapshot) widen(xid32 uint32) uint64 {
	full := s.xmax&^0xffffffff | uint64(xid32)
	switch {
	case full > s.xmax+1<<31:
		full -= 1 << 32
	case full+1<<31 < s.xmax:
		full += 1 << 32
	}
	return full
}

// SettledIn reports whether every event at or below the mark has
// committed or never will, as of snapshot s (taken after the mark).
func (m Mark) SettledIn(s Snapshot) bool {
	for _, xid := range m.inFlight {
		if !s.ended(xid) {
			return false
		}
	}
	return true
}

// TakeMark takes a mark and the snapshot that came with it (which also
// tells whether earlier marks have settled since).
func TakeMark(ctx context.Context, db *gorm.DB) (Mark, Snapshot, error) {
	if storage.DialectOf(db) != storage.Postgres {
		var last int64
		if err := db.WithContext(ctx).Model(&models.ClaimEvent{}).Select("COALESCE(MAX(seq), 0)").Scan(&last).Error; err != nil {
			return Mark{}, Snapshot{}, fmt.Errorf("read the newest event: %w", err)
		}
		return Mark{Seq: last}, Snapshot{}, nil
	}
	var last int64
	// Must be its own statement, before the next: a statement's snapshot
	// is taken as it starts, before it would read the sequence.
	if err := db.WithContext(ctx).Raw(lastDrawnSQL).Scan(&last).Error; err != nil {
		return Mark{}, Snapshot{}, fmt.Errorf("read the last drawn event number: %w", err)
	}
	var row struct{ Snapshot, Writers string }
	if err := db.WithContext(ctx).Raw(writersSQL).Scan(&row).Error; err != nil {
		return Mark{}, Snapshot{}, fmt.Errorf("read the event writers in flight: %w", err)
	}
	s, err := parseSnapshot(row.Snapshot)
	if err != nil {
		return Mark{}, Snapshot{}, fmt.Errorf("read the event writers in flight: %w", err)
	}
	m := Mark{Seq: last}
	for _, x := range strings.Split(row.Writers, ",") {
		xid32, err := strconv.ParseUint(x, 10, 32)
		if err != nil {
			continue // no writer: the list is empty
		}
		if xid := s.widen(uint32(xid32)); !s.ended(xid) {
			m.inFlight = append(m.inFlight, xid)
		}
	}
	return m, s, nil
}

const lastDrawnSQL = "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('claim_events', 'seq')::regclass), 0)"

// writersSQL reads the snapshot and the transactions of this database that
// hold the lock an INSERT into claim_events takes before it draws a number
// (and keeps until it ends): those are the only ones a mark waits for, not
// every writer of the cluster. pg_locks shows 32-bit transaction ids, the
// snapshot 64-bit ones; the low halves match.
const writersSQL = `SELECT pg_current_snapshot()::text AS snapshot,
	COALESCE((SELECT string_agg(DISTINCT t.transactionid::text, ',')
		FROM pg_locks r JOIN pg_locks t ON t.pid = r.pid AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
		WHERE r.locktype = 'relation' AND r.relation = 'claim_events'::regclass AND r.mode = 'RowExclusiveLock'
			AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())), '') AS writers`

// TakeSnapshot reads which transactions are in progress (PostgreSQL).
func TakeSnapshot(ctx context.Context, db *gorm.DB) (Snapshot, error) {
	if storage.DialectOf(db) != storage.Postgres {
		return Snapshot{}, nil
	}
	var text string
	if err := db.WithContext(ctx).Raw("SELECT pg_current_snapshot()::text").Scan(&text).Error; err != nil {
		return Snapshot{}, fmt.Errorf("read the transactions in progress: %w", err)
	}
	s, err := parseSnapshot(text)
	if err != nil {
		return Snapshot{}, fmt.Errorf("read the transactions in progress: %w", err)
	}
	return s, nil
}

// parseSnapshot reads pg_snapshot's text form, "xmin:xmax:xid,xid,…".
func parseSnapshot(text string) (Snapshot, error) {
	parts := strings.SplitN(text, ":", 3)
	if len(parts) != 3 {
		return Snapshot{}, fmt.Errorf("snapshot %q", text)
	}
	var s Snapshot
	var err error
	if s.xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %q: %w", text, err)
	}
	if s.xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %q: %w", text, err)
	}
	if parts[2] == "" {
		return s, nil
	}
	s.inProgress = map[uint64]bool{}
	for _, x := range strings.Split(parts[2], ",") {
		xid, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return Snapshot{}, fmt.Errorf("snapshot %q: %w", text, err)
		}
		s.inProgress[xid] = true
	}
	return s, nil
}

// Settled returns a settled sequence number at least as new as every event
// committed before the call, waiting for the writers in flight to end.
func Settled(ctx context.Context, db *gorm.DB) (int64, error) {
	m, s, err := TakeMark(ctx, db)
	if err != nil {
		return 0, err
	}
	wait := time.Millisecond
	for !m.SettledIn(s) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
		if s, err = TakeSnapshot(ctx, db); err != nil {
			return 0, err
		}
	}
	return m.Seq, nil
}
