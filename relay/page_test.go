package relay_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"cpor/relay"
	"cpor/storage"
	"cpor/storage/storagetest"
)

func ptr[T any](v T) *T { return &v }

func TestArgsValidation(t *testing.T) {
	// Paging arguments are checked before the query is touched, so a nil
	// database is enough to see every refusal.
	cases := []struct {
		name  string
		args  relay.Args
		field string
	}{
		{"first and last", relay.Args{First: ptr(1), Last: ptr(1)}, "first"},
		{"negative first", relay.Args{First: ptr(-1)}, "first"},
		{"negative last", relay.Args{Last: ptr(-5)}, "last"},
		{"first over the maximum", relay.Args{First: ptr(relay.MaxPageSize + 1)}, "first"},
		{"last over the maximum", relay.Args{Last: ptr(relay.MaxPageSize + 1)}, "last"},
		{"huge first", relay.Args{First: ptr(1 << 30)}, "first"},
		{"bad after", relay.Args{First: ptr(2), After: ptr("nope")}, "after"},
		{"bad before", relay.Args{Last: ptr(2), Before: ptr(relay.GlobalID(relay.TypeClaim, "x"))}, "before"},
	}
	ks := relay.Keyset{KeyColumn: "id", IntKey: true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := relay.Fetch[pagedRow](nil, ks, c.args, nil)
			wantInvalid(t, err, c.field)
		})
	}
}

func TestFetchKeysetPaging(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		if err := db.AutoMigrate(&pagedRow{}); err != nil {
			t.Fatal(err)
		}
		base := storage.Now().Add(-time.Hour)
		var rows []pagedRow
		for i := 1; i <= 25; i++ {
			// Three rows share each time, so the key must break ties.
			rows = append(rows, pagedRow{ID: int64(i), At: base.Add(time.Duration((i-1)/3) * time.Minute), Comment: fmt.Sprint(i)})
		}
		if err := db.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		cursorOf := func(r *pagedRow) relay.Cursor { return relay.Cursor{Time: r.At, Key: strconv.FormatInt(r.ID, 10)} }
		for _, desc := range []bool{false, true} {
			ks := relay.Keyset{TimeColumn: "at", KeyColumn: "id", IntKey: true, Desc: desc}
			want := make([]int64, 25)
			for i := range want {
				want[i] = int64(i + 1)
				if desc {
					want[i] = int64(25 - i)
				}
			}
			// Forward with first/after visits every row once, in order.
			var got []int64
			var after *string
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging forward does not end")
				}
				p, err := relay.Fetch(db.Model(&pagedRow{}), ks, relay.Args{First: ptr(7), After: after}, cursorOf)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Items {
					got = append(got, r.ID)
				}
				if p.PageInfo.HasPreviousPage != (after != nil) {
					t.Errorf("hasPreviousPage = %v after %v", p.PageInfo.HasPreviousPage, after)
				}
				if len(p.Items) > 0 && (*p.PageInfo.StartCursor != p.Cursors[0] || *p.PageInfo.EndCursor != p.Cursors[len(p.Cursors)-1]) {
					t.Errorf("start/end cursors do not match the edges")
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				after = p.PageInfo.EndCursor
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("desc=%v forward pages = %v; want %v", desc, got, want)
			}
			// Backward with last/before visits every row once, each page in order.
			got = nil
			var before *string
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging backward does not end")
				}
				p, err := relay.Fetch(db.Model(&pagedRow{}), ks, relay.Args{Last: ptr(4), Before: before}, cursorOf)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int64, len(p.Items))
				for i, r := range p.Items {
					ids[i] = r.ID
				}
				got = append(ids, got...)
				if p.PageInfo.HasNextPage != (before != nil) {
					t.Errorf("hasNextPage = %v before %v", p.PageInfo.HasNextPage, before)
				}
				if !p.PageInfo.HasPreviousPage {
					break
				}
				before = p.PageInfo.StartCursor
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("desc=%v backward pages = %v; want %v", desc, got, want)
			}
		}
		// first: 0 is an empty page, not the default size.
		p, err := relay.Fetch(db.Model(&pagedRow{}), relay.Keyset{KeyColumn: "id", IntKey: true}, relay.Args{First: ptr(0)}, cursorOf)
		if err != nil || len(p.Items) != 0 || !p.PageInfo.HasNextPage || p.PageInfo.EndCursor != nil {
			t.Fatalf("first: 0 = %+v, %v", p, err)
		}
		// No arguments: the default page size.
		p, err = relay.Fetch(db.Model(&pagedRow{}), relay.Keyset{KeyColumn: "id", IntKey: true}, relay.Args{}, cursorOf)
		if err != nil || len(p.Items) != relay.DefaultPageSize || !p.PageInfo.HasNextPage {
			t.Fatalf("default page = %d rows, %v", len(p.Items), err)
		}
	})
}
