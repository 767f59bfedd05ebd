package httpapi

import (
	"context"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// strictEnums refuses enum values in variables whose spelling differs from
// the schema's only in case, as GraphQL validation refuses them in the query
// text. gqlparser compares variable enum values ignoring case and passes them
// on as sent ("usage"), which resolvers would take as an unknown value: an
// empty filter result, or a database constraint failure.
type strictEnums struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*strictEnums)(nil)

func (*strictEnums) ExtensionName() string { return "StrictEnums" }

func (s *strictEnums) Validate(es graphql.ExecutableSchema) error {
	s.schema = es.Schema()
	return nil
}

func (s *strictEnums) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	for _, def := range rc.Operation.VariableDefinitions {
		if v, ok := rc.Variables[def.Variable]; ok {
			if err := s.check(def.Type, v, ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *strictEnums) check(t *ast.Type, v any, path ast.Path) *gqlerror.Error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		rv = rv.Elem()
	}
	if !rv.IsValid() || t == nil {
		return nil
	}
	if t.Elem != nil {
		if rv.Kind() != reflect.Slice {
			return s.check(t.Elem, v, path) // a single value stands for a list of one
		}
		for i := range rv.Len() {
			if err := s.check(t.Elem, rv.Index(i).Interface(), append(slices.Clip(path), ast.PathIndex(i))); err != nil {
				return err
			}
		}
		return nil
	}
	def := s.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Enum:
		if rv.Kind() == reflect.String && def.EnumValues.ForName(rv.String()) == nil {
			err := gqlerror.ErrorPathf(path, "%s is not a valid %s (enum values are case-sensitive)", rv.String(), def.Name)
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	case ast.InputObject:
		if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			for _, f := range def.Fields {
				fv := rv.MapIndex(reflect.ValueOf(f.Name).Convert(rv.Type().Key()))
				if !fv.IsValid() {
					continue
				}
				if err := s.check(f.Type, fv.Interface(), append(slices.Clip(path), ast.PathName(f.Name))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
