// Package gqldoc checks GraphQL documents that ship with the project (the
// README's examples, the web app's operations) the way a careful client
// would: against the schema, named, and free of deprecated fields.
package gqldoc

import (
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Problems validates doc against schema and lists what a careful client
// would not send: validation errors, anonymous operations, and fields
// marked @deprecated.
func Problems(schema *ast.Schema, doc string) []string {
	parsed, errs := gqlparser.LoadQuery(schema, doc)
	if len(errs) > 0 {
		return messages(errs)
	}
	var out []string
	for _, op := range parsed.Operations {
		name := op.Name
		if name == "" {
			name = "(anonymous)"
			out = append(out, "an anonymous "+string(op.Operation))
		}
		for _, f := range deprecated(op.SelectionSet) {
			out = append(out, "operation "+name+" uses the deprecated "+f)
		}
	}
	return out
}

func messages(errs gqlerror.List) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func deprecated(set ast.SelectionSet) []string {
	var out []string
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition != nil && s.Definition.Directives.ForName("deprecated") != nil {
				out = append(out, s.ObjectDefinition.Name+"."+s.Name)
			}
			out = append(out, deprecated(s.SelectionSet)...)
		case *ast.InlineFragment:
			out = append(out, deprecated(s.SelectionSet)...)
		case *ast.FragmentSpread:
			out = append(out, deprecated(s.Definition.SelectionSet)...)
		}
	}
	return out
}
