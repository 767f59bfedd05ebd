package loaders

import (
	"context"
	"strconv"
	"sync"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/relay"
)

// Pages loads one child list (a claim's comments, say) of many parents:
// every parent of a GraphQL page asks with the same paging arguments, so
// the parents listed together are served by one statement per arguments,
// and the totals of those that ask for one by another.
type Pages[T any] struct {
	db       *gorm.DB
	list     relay.ChildList[T]
	siblings *siblings
	// refs are the keys each row refers to by kind (an event's comment),
	// registered as siblings so that those relations load together too.
	refs   func(*T) []uuid.UUID
	counts *Keyed[int64]

	// byArgs load the pages of parents not listed together (claims reached
	// one by one, as nodes), gathering them for a moment.
	mu     sync.Mutex
	byArgs map[string]*Keyed[*relay.Page[T]]
}

func newPages[T any](db *gorm.DB, list relay.ChildList[T], listed *siblings, refs func(*T) []uuid.UUID) *Pages[T] {
	return &Pages[T]{db: db, list: list, siblings: listed, refs: refs, byArgs: map[string]*Keyed[*relay.Page[T]]{},
		counts: newKeyed(listed, func(ctx context.Context, parents []uuid.UUID) (map[uuid.UUID]int64, error) {
			return list.Counts(db.WithContext(ctx), parents)
		})}
}

// Load returns the parent's page of the list under args, with a total
// counted only if asked for.
func (p *Pages[T]) Load(ctx context.Context, parent uuid.UUID, args relay.Args) (*relay.Connection[T], error) {
	page, err := p.loader(args).Load(ctx, parent)
	if err != nil {
		return nil, err
	}
	return relay.Counted(page, func() (int64, error) {
		return p.counts.Load(ctx, parent)
	}), nil
}

// loader is the loader of the list's pages under args.
func (p *Pages[T]) loader(args relay.Args) *Keyed[*relay.Page[T]] {
	key := argsKey(args)
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.byArgs[key]
	if !ok {
		l = newKeyed(p.siblings, func(ctx context.Context, parents []uuid.UUID) (map[uuid.UUID]*relay.Page[T], error) {
			pages, err := p.list.Pages(p.db.WithContext(ctx), parents, args)
			if err == nil && p.refs != nil {
				p.registerRefs(pages)
			}
			return pages, err
		})
		p.byArgs[key] = l
	}
	return l
}

// registerRefs makes the keys that the pages' rows refer to siblings by
// kind: every event's comment with the other events' comments, say.
func (p *Pages[T]) registerRefs(pages map[uuid.UUID]*relay.Page[T]) {
	var byKind [][]uuid.UUID
	for _, page := range pages {
		for i := range page.Items {
			for kind, id := range p.refs(&page.Items[i]) {
				for kind >= len(byKind) {
					byKind = append(byKind, nil)
				}
				if id != uuid.Nil {
					byKind[kind] = append(byKind[kind], id)
				}
			}
		}
	}
	for _, ids := range byKind {
		p.siblings.add(ids)
	}
}

// argsKey tells paging arguments apart, an absent one from any value.
func argsKey(a relay.Args) string {
	b := make([]byte, 0, 64)
	for _, n := range []*int{a.First, a.Last} {
		b = append(b, '|')
		if n != nil {
			b = strconv.AppendInt(append(b, '='), int64(*n), 10)
		}
	}
	for _, s := range []*string{a.After, a.Before} {
		b = append(b, '|')
		if s != nil {
			b = append(append(b, '='), *s...)
		}
	}
	return string(b)
}
