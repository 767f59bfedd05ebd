package relay

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ChildList is a list that hangs off a parent row, such as a claim's
// comments: the rows of Model whose ParentColumn names the parent, in
// Keyset order. A page of parents asks for the list of each of them at
// once, so its pages come from one statement, not one per parent.
type ChildList[T any] struct {
	ParentColumn string
	Keyset       Keyset
	ParentOf     func(*T) uuid.UUID
	CursorOf     func(*T) Cursor
}

// rowNumber is the column that numbers each parent's rows in page order.
const rowNumber = "relay_row_number"

// Pages fetches one page of the list for each parent, args applied to each
// parent's rows alone, in one statement that keeps the first limit+1 rows
// of each parent (one more tells that there is a next page): on
// PostgreSQL a lateral join reads just those from the index for each
// parent; SQLite, which has no lateral joins, numbers every parent's rows
// with a window function and keeps the first ones. A parent without rows
// gets an empty page.
func (l ChildList[T]) Pages(db *gorm.DB, parents []uuid.UUID, args Args) (map[uuid.UUID]*Page[T], error) {
	limit, backward, err := args.window()
	if err != nil {
		return nil, err
	}
	fetch := l.numbered
	if db.Dialector.Name() == "postgres" {
		fetch = l.lateral
	}
	rows, err := fetch(db, parents, args, limit, backward)
	if err != nil {
		return nil, fmt.Errorf("pages of %d parents: %w", len(parents), err)
	}
	out := make(map[uuid.UUID]*Page[T], len(parents))
	for start := 0; start < len(rows); {
		parent := l.ParentOf(&rows[start])
		end := start + 1
		for end < len(rows) && l.ParentOf(&rows[end]) == parent {
			end++
		}
		out[parent] = newPage(rows[start:end:end], limit, backward, args, l.CursorOf)
		start = end
	}
	for _, p := range parents {
		if out[p] == nil {
			out[p] = newPage[T](nil, limit, backward, args, l.CursorOf)
		}
	}
	return out, nil
}

// lateral reads each parent's first rows with an index scan of its own.
func (l ChildList[T]) lateral(db *gorm.DB, parents []uuid.UUID, args Args, limit int, backward bool) ([]T, error) {
	var model T
	desc := l.Keyset.Desc != backward
	each, err := l.Keyset.where(db.Model(&model).Where(l.ParentColumn+" = parent.id"), args)
	if err != nil {
		return nil, err
	}
	each = each.Order(l.Keyset.order(desc)).Limit(limit + 1)
	ids := make([]string, len(parents))
	for i, p := range parents {
		ids[i] = p.String()
	}
	var rows []T
	err = db.Session(&gorm.Session{NewDB: true}).
		Table("unnest(?::uuid[]) WITH ORDINALITY AS parent(id, n)", pgTextArray(ids)).
		Joins("CROSS JOIN LATERAL (?) AS rows", each).
		Select("rows.*").Order("parent.n, " + l.Keyset.qualified("rows").order(desc)).
		Find(&rows).Error
	return rows, err
}

// numbered numbers every parent's rows in the page's order and keeps the
// first ones.
func (l ChildList[T]) numbered(db *gorm.DB, parents []uuid.UUID, args Args, limit int, backward bool) ([]T, error) {
	var model T
	inner, err := l.Keyset.where(db.Model(&model).Where(l.ParentColumn+" IN ?", parents), args)
	if err != nil {
		return nil, err
	}
	inner = inner.Select(fmt.Sprintf("*, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS %s",
		l.ParentColumn, l.Keyset.order(l.Keyset.Desc != backward), rowNumber))
	var rows []T
	err = db.Session(&gorm.Session{NewDB: true}).Table("(?) AS pages", inner).
		Where(rowNumber+" <= ?", limit+1).Order(l.ParentColumn + ", " + rowNumber).Find(&rows).Error
	return rows, err
}

// pgTextArray renders values as a PostgreSQL array literal; UUIDs need no
// quoting.
func pgTextArray(values []string) string {
	return "{" + strings.Join(values, ",") + "}"
}

// Counts counts each parent's rows in one statement; a parent without rows
// counts 0.
func (l ChildList[T]) Counts(db *gorm.DB, parents []uuid.UUID) (map[uuid.UUID]int64, error) {
	var model T
	var rows []struct {
		Parent uuid.UUID
		N      int64
	}
	err := db.Model(&model).Select(l.ParentColumn+" AS parent, COUNT(*) AS n").
		Where(l.ParentColumn+" IN ?", parents).Group(l.ParentColumn).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count rows of %d parents: %w", len(parents), err)
	}
	out := make(map[uuid.UUID]int64, len(parents))
	for _, r := range rows {
		out[r.Parent] = r.N
	}
	return out, nil
}

// Counted is a page whose total comes from count, called only if a client
// asks for it.
func Counted[T any](page *Page[T], count func() (int64, error)) *Connection[T] {
	return &Connection[T]{Page: page, count: count}
}
