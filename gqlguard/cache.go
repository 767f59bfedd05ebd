package gqlguard

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// CacheLimits bound a cache by the memory its entries hold and by their
// number: every entry weighs at least MaxBytes/MaxEntries.
type CacheLimits struct {
	MaxBytes   int
	MaxEntries int
}

// DefaultDocumentCache holds a thousand typical documents.
var DefaultDocumentCache = CacheLimits{MaxBytes: 32 << 20, MaxEntries: 1000}

// DefaultPersistedQueryCache holds the text of automatic persisted queries.
var DefaultPersistedQueryCache = CacheLimits{MaxBytes: 4 << 20, MaxEntries: 1000}

// newCache returns an otter cache bounded by limits, weighing each entry
// with weigh (bytes) but never under the per-entry floor.
func newCache[V any](limits CacheLimits, weigh func(key string, v V) int) *otter.Cache[string, V] {
	floor := limits.MaxBytes / max(limits.MaxEntries, 1)
	return otter.Must(&otter.Options[string, V]{
		MaximumWeight: uint64(limits.MaxBytes),
		Weigher: func(key string, v V) uint32 {
			return uint32(min(max(weigh(key, v), floor), limits.MaxBytes))
		},
	})
}

// documentCache is gqlgen's parsed-document cache, read-only to gqlgen:
// gqlgen would add a document once it validates, before the complexity
// limit and the budget have looked at it; the guard's admission step adds
// it once everything has passed.
type documentCache struct {
	docs *otter.Cache[string, *ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = documentCache{}

func (c documentCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return c.docs.GetIfPresent(query)
}

// Add is gqlgen's call after validation; admission happens later.
func (documentCache) Add(context.Context, string, *ast.QueryDocument) {}

// documentWeight estimates what a parsed document holds: its text (the
// key and the AST's source) and about 320 bytes per AST node, as measured
// on parsed and validated operations.
func documentWeight(query string, doc *ast.QueryDocument) int {
	nodes := 0
	var count func(ast.SelectionSet)
	count = func(set ast.SelectionSet) {
		for _, sel := range set {
			nodes++
			switch s := sel.(type) {
			case *ast.Field:
				nodes += len(s.Arguments) + len(s.Directives)
				count(s.SelectionSet)
			case *ast.InlineFragment:
				count(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		nodes += 1 + len(op.VariableDefinitions)
		count(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		nodes++
		count(f.SelectionSet)
	}
	return 2*len(query) + 320*nodes
}

// persistedQueries is the automatic-persisted-query store (hash → text),
// bounded by bytes so that registering queries cannot fill memory.
type persistedQueries struct {
	texts *otter.Cache[string, string]
}

var _ graphql.Cache[string] = persistedQueries{}

func (p persistedQueries) Get(_ context.Context, hash string) (string, bool) {
	return p.texts.GetIfPresent(hash)
}

func (p persistedQueries) Add(_ context.Context, hash, query string) {
	p.texts.Set(hash, query)
}
