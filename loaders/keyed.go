package loaders

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"
)

// fetchFunc reads the values of many keys in one statement; a key without
// a value is absent from the map.
type fetchFunc[V any] func(ctx context.Context, keys []uuid.UUID) (map[uuid.UUID]V, error)

// Keyed loads values by key. A key the response listed with others (see
// siblings) is loaded with all of them by one fetch, once, the moment the
// first of them is asked for: its statement count does not depend on
// timing. Any other key goes through a dataloader that gathers keys for a
// moment.
type Keyed[V any] struct {
	fetch  fetchFunc[V]
	loader *dataloadgen.Loader[uuid.UUID, V]
	groups *siblings
	primed sync.Map // uuid.UUID → V: rows read with the page they hang off
}

func newKeyed[V any](groups *siblings, fetch fetchFunc[V]) *Keyed[V] {
	return &Keyed[V]{fetch: fetch, groups: groups, loader: dataloadgen.NewMappedLoader(
		func(ctx context.Context, keys []uuid.UUID) (map[uuid.UUID]V, error) { return fetch(ctx, keys) },
		dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(batchCapacity))}
}

// Load returns key's value, the zero value when it has none.
func (k *Keyed[V]) Load(ctx context.Context, key uuid.UUID) (V, error) {
	if v, ok := k.primed.Load(key); ok {
		return v.(V), nil
	}
	if g := k.groups.of(key); g != nil {
		all, err := g.once(k, func() (any, error) { return k.fetch(ctx, g.ids) })
		if err != nil {
			var zero V
			return zero, err
		}
		return all.(map[uuid.UUID]V)[key], nil
	}
	v, err := k.loader.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return v, nil
	}
	return v, err
}

// Prime keeps a value already read: loading its key costs nothing.
func (k *Keyed[V]) Prime(key uuid.UUID, v V) { k.primed.Store(key, v) }

// siblings remembers which rows a response listed together (a page of
// claims, the comments its events refer to …), so that a relation asked
// for one of them is loaded for all of them at once.
type siblings struct {
	mu     sync.Mutex
	groups map[uuid.UUID]*group
}

func newSiblings() *siblings { return &siblings{groups: map[uuid.UUID]*group{}} }

// group is rows listed together, with the results fetched for all of them.
type group struct {
	ids     []uuid.UUID
	mu      sync.Mutex
	results map[any]*groupResult
}

type groupResult struct {
	once sync.Once
	v    any
	err  error
}

// add makes ids one group; a row listed again joins the later group.
func (s *siblings) add(ids []uuid.UUID) {
	if len(ids) == 0 {
		return
	}
	g := &group{ids: ids, results: map[any]*groupResult{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.groups[id] = g
	}
}

// of returns id's group; nil when it was not listed.
func (s *siblings) of(id uuid.UUID) *group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[id]
}

// once returns what fetch gives for the group under name, running it only
// for the first caller; the others wait for its result.
func (g *group) once(name any, fetch func() (any, error)) (any, error) {
	g.mu.Lock()
	r, ok := g.results[name]
	if !ok {
		r = &groupResult{}
		g.results[name] = r
	}
	g.mu.Unlock()
	r.once.Do(func() { r.v, r.err = fetch() })
	return r.v, r.err
}
