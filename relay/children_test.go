package relay_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/relay"
	"cpor/storage"
	"cpor/storage/storagetest"
)

// childRow is a throwaway child table: rows of a parent, ordered by a time
// that repeats (the key breaks ties).
type childRow struct {
	ID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ParentID uuid.UUID `gorm:"type:uuid;index"`
	At       time.Time
}

func (childRow) TableName() string { return "relay_test_children" }

var childList = relay.ChildList[childRow]{
	ParentColumn: "parent_id",
	Keyset:       relay.Keyset{TimeColumn: "at", KeyColumn: "id", Desc: true},
	ParentOf:     func(r *childRow) uuid.UUID { return r.ParentID },
	CursorOf:     func(r *childRow) relay.Cursor { return relay.Cursor{Time: r.At, Key: r.ID.String()} },
}

// Every parent's page of a batch is the page its own query gives, for
// every paging argument: first, last, after and before, on both databases.
func TestChildPagesEqualEachParentsOwnPage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		if err := db.AutoMigrate(&childRow{}); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(8, 8))
		base := storage.Now().Add(-time.Hour)
		parents := make([]uuid.UUID, 12)
		var rows []childRow
		for i := range parents {
			parents[i] = uuid.New()
			for range i % 7 { // 0 to 6 rows; some parents have none
				rows = append(rows, childRow{ID: uuid.New(), ParentID: parents[i], At: base.Add(time.Duration(rng.IntN(4)) * time.Second)})
			}
		}
		if err := db.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		cursors := []*string{nil}
		for _, r := range rows[:5] {
			c := childList.CursorOf(&r).Encode()
			cursors = append(cursors, &c)
		}
		for _, n := range []int{0, 1, 2, 5, 10} {
			for _, c := range cursors {
				for _, args := range []relay.Args{
					{First: &n, After: c}, {Last: &n, Before: c}, {First: &n, Before: c}, {Last: &n, After: c},
				} {
					compare(t, db, parents, args)
				}
			}
		}
	})
}

func compare(t *testing.T, db *gorm.DB, parents []uuid.UUID, args relay.Args) {
	t.Helper()
	pages, err := childList.Pages(db, parents, args)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parents {
		want, err := relay.Fetch(db.Model(&childRow{}).Where("parent_id = ?", p), childList.Keyset, args, childList.CursorOf)
		if err != nil {
			t.Fatal(err)
		}
		got := pages[p]
		if len(want.Items) == 0 && len(got.Items) == 0 {
			want.Items, got.Items = nil, nil
		}
		if !reflect.DeepEqual(got.Cursors, want.Cursors) || !reflect.DeepEqual(got.PageInfo, want.PageInfo) {
			t.Fatalf("%s: parent %s: batch %v %+v, alone %v %+v", describe(args), p, got.Cursors, got.PageInfo, want.Cursors, want.PageInfo)
		}
	}
}

func describe(a relay.Args) string {
	s := func(p *string) string {
		if p == nil {
			return "-"
		}
		return (*p)[:6]
	}
	n := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("first %s after %s last %s before %s", n(a.First), s(a.After), n(a.Last), s(a.Before))
}
