package relay

import (
	"fmt"

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
// parent's rows alone, in one statement: a window function numbers every
// parent's rows in the page's order and the statement keeps the first
// limit+1 of each (one more tells that there is a next page). Both
// databases run it (SQLite has window functions since 3.25). A parent
// without rows gets an empty page.
func (l ChildList[T]) Pages(db *gorm.DB, parents []uuid.UUID, args Args) (map[uuid.UUID]*Page[T], error) {
	limit, backward, err := args.window()
	if err != nil {
		return nil, err
	}
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
