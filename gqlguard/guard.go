package gqlguard

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Guard prices documents before gqlgen parses them and caches only those
// that passed every check. Wire it into a gqlgen server with
//
//	srv.SetQueryCache(g.DocumentCache())
//	srv.Use(extension.AutomaticPersistedQuery{Cache: g.PersistedQueryCache()})
//	srv.Use(g.Pricing())     // before any other operation parameter mutator that reads the query
//	…                        // complexity, budgets: everything that may refuse
//	srv.Use(g.Admission())   // last
type Guard struct {
	limits    Limits
	docs      *otter.Cache[string, *ast.QueryDocument]
	persisted *otter.Cache[string, string]
}

// New returns a guard with the document limits and cache bounds.
func New(limits Limits, documents, persisted CacheLimits) *Guard {
	return &Guard{
		limits: limits,
		docs:   newCache(documents, documentWeight),
		persisted: newCache(persisted, func(hash, text string) int {
			return len(hash) + len(text) + 64
		}),
	}
}

// Limits are the guard's document limits.
func (g *Guard) Limits() Limits { return g.limits }

// DocumentCache is the cache to give gqlgen (SetQueryCache).
func (g *Guard) DocumentCache() graphql.Cache[*ast.QueryDocument] { return documentCache{g.docs} }

// PersistedQueryCache is the store for gqlgen's automatic persisted queries.
func (g *Guard) PersistedQueryCache() graphql.Cache[string] { return persistedQueries{g.persisted} }

// CachedBytes is the cache's estimate of the memory its documents hold.
func (g *Guard) CachedBytes() uint64 { return g.docs.WeightedSize() }

// Pricing is the extension that checks every document not already cached.
func (g *Guard) Pricing() graphql.HandlerExtension { return pricing{g} }

// Admission is the extension that caches a document once every check
// before it has passed; use it last.
func (g *Guard) Admission() graphql.HandlerExtension { return admission{g} }

type pricing struct{ g *Guard }

var _ graphql.OperationParameterMutator = pricing{}

func (pricing) ExtensionName() string                   { return "DocumentPricing" }
func (pricing) Validate(graphql.ExecutableSchema) error { return nil }

func (p pricing) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if _, cached := p.g.docs.GetIfPresent(params.Query); cached {
		return nil
	}
	return p.g.limits.Check(params.Query)
}

type admission struct{ g *Guard }

var _ graphql.OperationContextMutator = admission{}

func (admission) ExtensionName() string                   { return "DocumentAdmission" }
func (admission) Validate(graphql.ExecutableSchema) error { return nil }

func (a admission) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Doc != nil {
		a.g.docs.SetIfAbsent(rc.RawQuery, rc.Doc)
	}
	return nil
}
