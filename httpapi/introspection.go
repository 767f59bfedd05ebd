package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
)

// introspectionOff refuses, before it runs, an operation that asks for
// __schema or __type when introspection is turned off. Left to gqlgen,
// such a field fails while the operation runs with an uncoded error that
// reads as an internal failure.
type introspectionOff struct{}

var _ graphql.OperationContextMutator = introspectionOff{}

func (introspectionOff) ExtensionName() string                   { return "IntrospectionOff" }
func (introspectionOff) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || !asksIntrospection(rc.Doc, rc.Operation.SelectionSet, map[string]bool{}) {
		return nil
	}
	return &gqlerror.Error{
		Message:    "Introspection is turned off on this server; the schema is published with the API's documentation.",
		Extensions: map[string]any{"code": apperr.Forbidden},
	}
}

// asksIntrospection reports whether the root selection set, fragments
// included, selects __schema or __type.
func asksIntrospection(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(doc, s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				if asksIntrospection(doc, f.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}
