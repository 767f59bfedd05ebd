package loaders

import (
	"context"
	"strconv"
	"sync"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"
	"gorm.io/gorm"

	"cpor/relay"
)

// Pages loads one child list (a claim's comments, say) of many parents:
// every parent of a GraphQL page asks with the same paging arguments, so
// the parents asking within one wait are served by one statement, and the
// totals of those that ask for one by another.
type Pages[T any] struct {
	db       *gorm.DB
	list     relay.ChildList[T]
	siblings *siblings
	// refs are the keys each row refers to by kind (an event's comment),
	// registered as siblings so that those relations load together too.
	refs func(*T) []uuid.UUID

	mu     sync.Mutex
	byArgs map[string]*dataloadgen.Loader[uuid.UUID, *relay.Page[T]]
	counts *dataloadgen.Loader[uuid.UUID, int64]
}

func newPages[T any](db *gorm.DB, list relay.ChildList[T], listed *siblings, refs func(*T) []uuid.UUID) *Pages[T] {
	p := &Pages[T]{db: db, list: list, siblings: listed, refs: refs, byArgs: map[string]*dataloadgen.Loader[uuid.UUID, *relay.Page[T]]{}}
	p.counts = dataloadgen.NewMappedLoader(func(ctx context.Context, parents []uuid.UUID) (map[uuid.UUID]int64, error) {
		return list.Counts(db.WithContext(ctx), parents)
	}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(batchCapacity))
	return p
}

// Load returns the parent's page of the list under args, with a total
// counted only if asked for.
func (p *Pages[T]) Load(ctx context.Context, parent uuid.UUID, args relay.Args) (*relay.Connection[T], error) {
	pages := p.loader(args)
	// Asking for the parent's siblings too puts them all in one batch,
	// whenever their own resolvers run.
	all := p.siblings.with(parent)
	pages.LoadAllThunk(ctx, all)
	page, err := pages.Load(ctx, parent)
	if err != nil {
		return nil, err
	}
	return relay.Counted(page, func() (int64, error) {
		p.counts.LoadAllThunk(ctx, all)
		n, err := p.counts.Load(ctx, parent)
		if err == dataloadgen.ErrNotFound {
			return 0, nil
		}
		return n, err
	}), nil
}

func (p *Pages[T]) loader(args relay.Args) *dataloadgen.Loader[uuid.UUID, *relay.Page[T]] {
	key := argsKey(args)
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.byArgs[key]
	if !ok {
		l = dataloadgen.NewMappedLoader(func(ctx context.Context, parents []uuid.UUID) (map[uuid.UUID]*relay.Page[T], error) {
			pages, err := p.list.Pages(p.db.WithContext(ctx), parents, args)
			if err == nil && p.refs != nil {
				p.registerRefs(pages)
			}
			return pages, err
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(batchCapacity))
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
				if kind >= len(byKind) {
					byKind = append(byKind, make([][]uuid.UUID, kind+1-len(byKind))...)
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

// siblings remembers which parents a response listed together (a page of
// claims), so that a relation asked for one of them is loaded for all.
type siblings struct {
	mu sync.Mutex
	of map[uuid.UUID][]uuid.UUID
}

func (s *siblings) add(ids []uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.of[id] = ids
	}
}

// load loads key with its siblings: one batch for all of them.
func load[T any](ctx context.Context, s *siblings, l *dataloadgen.Loader[uuid.UUID, *T], key uuid.UUID) (*T, error) {
	l.LoadAllThunk(ctx, s.with(key))
	return Load(ctx, l, key)
}

// with returns the parents listed with id, id included; id alone when it
// was not listed.
func (s *siblings) with(id uuid.UUID) []uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ids, ok := s.of[id]; ok {
		return ids
	}
	return []uuid.UUID{id}
}
