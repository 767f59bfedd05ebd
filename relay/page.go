package relay

import (
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm"

	"cpor/apperr"
)

const (
	// DefaultPageSize applies when the client gives neither first nor last.
	DefaultPageSize = 20
	// MaxPageSize bounds first and last.
	MaxPageSize = 100
)

// Args are a connection field's paging arguments.
type Args struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// PageInfo is the Relay page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Keyset is an order over a table: an optional time column, then a unique
// key column, ascending or descending.
type Keyset struct {
	TimeColumn string // empty: order by KeyColumn only
	KeyColumn  string
	IntKey     bool // the key column is an integer
	Desc       bool
	// NullsLast says the time column may be NULL (a claim's submission
	// time, say). Rows without a time come after every row with one, in
	// either direction, ordered by key among themselves; their cursors
	// carry no time.
	NullsLast bool
}

// Page is one page of rows plus what the connection needs to describe it.
type Page[T any] struct {
	Items    []T
	Cursors  []string
	PageInfo PageInfo
}

// Fetch runs q (already filtered, not yet ordered) for one page in keyset
// order. cursorOf gives each row's position.
func Fetch[T any](q *gorm.DB, ks Keyset, args Args, cursorOf func(*T) Cursor) (*Page[T], error) {
	limit, backward, err := args.window()
	if err != nil {
		return nil, err
	}
	q, err = ks.where(q, args)
	if err != nil {
		return nil, err
	}
	var rows []T
	if err := q.Order(ks.order(ks.Desc != backward)).Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	return newPage(rows, limit, backward, args, cursorOf), nil
}

// where narrows q to the rows after args.After and before args.Before.
func (ks Keyset) where(q *gorm.DB, args Args) (*gorm.DB, error) {
	if args.After != nil {
		c, err := ks.Decode(*args.After, "after")
		if err != nil {
			return nil, err
		}
		q = q.Where(ks.beyond(c, false))
	}
	if args.Before != nil {
		c, err := ks.Decode(*args.Before, "before")
		if err != nil {
			return nil, err
		}
		q = q.Where(ks.beyond(c, true))
	}
	return q, nil
}

// newPage makes a page of rows fetched in the window's direction, one more
// than limit when there are more.
func newPage[T any](rows []T, limit int, backward bool, args Args, cursorOf func(*T) Cursor) *Page[T] {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if backward {
		slices.Reverse(rows)
	}
	p := &Page[T]{Items: rows, Cursors: make([]string, len(rows))}
	for i := range rows {
		p.Cursors[i] = cursorOf(&rows[i]).Encode()
	}
	if len(rows) > 0 {
		p.PageInfo.StartCursor, p.PageInfo.EndCursor = &p.Cursors[0], &p.Cursors[len(rows)-1]
	}
	// Relay lets a server answer the "other side" cheaply: a cursor given on
	// that side means rows existed there.
	if backward {
		p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage = more, args.Before != nil
	} else {
		p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage = more, args.After != nil
	}
	return p
}

func (a Args) window() (limit int, backward bool, err error) {
	if a.First != nil && a.Last != nil {
		return 0, false, apperr.Invalidf("first", "Give either first or last, not both.")
	}
	for _, n := range []struct {
		field string
		v     *int
	}{{"first", a.First}, {"last", a.Last}} {
		if n.v != nil && (*n.v < 0 || *n.v > MaxPageSize) {
			return 0, false, apperr.Invalidf(n.field, "%s must be between 0 and %d.", n.field, MaxPageSize)
		}
	}
	switch {
	case a.Last != nil:
		return *a.Last, true, nil
	case a.First != nil:
		return *a.First, false, nil
	case a.Before != nil:
		return DefaultPageSize, true, nil
	}
	return DefaultPageSize, false, nil
}

// beyond is the condition for rows after c (decoded by ks.Decode) in the
// keyset's order, or before it when reversed.
func (ks Keyset) beyond(c Cursor, reversed bool) any {
	op := ">"
	if ks.Desc != reversed {
		op = "<"
	}
	var key any = c.Key
	if ks.IntKey {
		key, _ = strconv.ParseInt(c.Key, 10, 64) // Decode checked it
	}
	if ks.TimeColumn == "" {
		return gorm.Expr(ks.KeyColumn+" "+op+" ?", key)
	}
	if ks.NullsLast {
		return ks.beyondNullable(c, key, op, reversed)
	}
	return gorm.Expr(fmt.Sprintf("(%s %s ? OR (%s = ? AND %s %s ?))",
		ks.TimeColumn, op, ks.TimeColumn, ks.KeyColumn, op), c.Time, c.Time, key)
}

// beyondNullable is beyond for a time column whose NULLs come last: after
// a timed row come the later times and every untimed row; after an untimed
// row only untimed rows with a greater key. Before, the other way round.
func (ks Keyset) beyondNullable(c Cursor, key any, op string, reversed bool) any {
	col, k := ks.TimeColumn, ks.KeyColumn
	switch {
	case c.Time.IsZero() && reversed:
		return gorm.Expr(fmt.Sprintf("(%s IS NOT NULL OR %s %s ?)", col, k, op), key)
	case c.Time.IsZero():
		return gorm.Expr(fmt.Sprintf("(%s IS NULL AND %s %s ?)", col, k, op), key)
	}
	timed := fmt.Sprintf("%s %s ? OR (%s = ? AND %s %s ?)", col, op, col, k, op)
	if reversed {
		return gorm.Expr("("+timed+")", c.Time, c.Time, key)
	}
	return gorm.Expr("("+timed+" OR "+col+" IS NULL)", c.Time, c.Time, key)
}

// qualified is the keyset with its columns named in table.
func (ks Keyset) qualified(table string) Keyset {
	if ks.TimeColumn != "" {
		ks.TimeColumn = table + "." + ks.TimeColumn
	}
	ks.KeyColumn = table + "." + ks.KeyColumn
	return ks
}

// OrderBy is the keyset's ORDER BY clause, for reading the whole list in
// its order without paging (an export).
func (ks Keyset) OrderBy() string { return ks.order(ks.Desc) }

func (ks Keyset) order(desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if ks.TimeColumn == "" {
		return ks.KeyColumn + dir
	}
	nulls := ""
	if ks.NullsLast {
		// Both databases take NULLS FIRST/LAST (SQLite since 3.30); read
		// in reverse, the NULLs come first.
		nulls = " NULLS LAST"
		if desc != ks.Desc {
			nulls = " NULLS FIRST"
		}
	}
	return ks.TimeColumn + dir + nulls + ", " + ks.KeyColumn + dir
}

// Connection is a page of a list, with its total computed only if asked.
type Connection[T any] struct {
	*Page[T]
	count func() (int64, error)
}

// TotalCount counts every row of the list, not only this page. It runs only
// when a client asks for it.
func (c *Connection[T]) TotalCount() (int, error) {
	n, err := c.count()
	return int(n), err
}

// Edge is one row of a connection with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// Edges returns the page's rows with their cursors.
func (c *Connection[T]) Edges() []*Edge[T] {
	out := make([]*Edge[T], len(c.Items))
	for i := range c.Items {
		out[i] = &Edge[T]{Cursor: c.Cursors[i], Node: &c.Items[i]}
	}
	return out
}

// Nodes returns the page's rows.
func (c *Connection[T]) Nodes() []*T {
	out := make([]*T, len(c.Items))
	for i := range c.Items {
		out[i] = &c.Items[i]
	}
	return out
}

// NewConnection fetches one page of q and prepares its total count.
func NewConnection[T any](q *gorm.DB, ks Keyset, args Args, cursorOf func(*T) Cursor) (*Connection[T], error) {
	page, err := Fetch(q.Session(&gorm.Session{}), ks, args, cursorOf)
	if err != nil {
		return nil, err
	}
	var model T
	count := q.Session(&gorm.Session{}).Model(&model)
	return &Connection[T]{Page: page, count: func() (int64, error) {
		var n int64
		if err := count.Count(&n).Error; err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		return n, nil
	}}, nil
}
