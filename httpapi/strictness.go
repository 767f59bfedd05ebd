package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
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

// codeTransportErrors gives the errors that gqlgen's transports write
// themselves (a multipart request that breaks the specification, a mutation
// over GET, variables that are not JSON) the extensions.code that every
// other error has, and a client-error status instead of 200. The transports
// write each response in one Write, which is where it is looked at.
func codeTransportErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // websockets: errors travel in protocol messages
			return
		}
		cw := &codingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if !cw.wrote && cw.status != 0 {
			w.WriteHeader(cw.status)
		}
	})
}

type codingWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (c *codingWriter) WriteHeader(code int) {
	if !c.wrote && c.status == 0 {
		c.status = code
	}
}

func (c *codingWriter) Write(b []byte) (int, error) {
	if c.wrote {
		return c.ResponseWriter.Write(b)
	}
	c.wrote = true
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	out, status := codeErrors(b, status)
	c.ResponseWriter.WriteHeader(status)
	if _, err := c.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *codingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// codeErrors adds INVALID_INPUT to the errors of a response that have no
// code, and makes the status a client error when it was not one.
func codeErrors(body []byte, status int) ([]byte, int) {
	if !bytes.Contains(body, []byte(`"errors"`)) {
		return body, status
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(body, &resp); err != nil {
		return body, status
	}
	var list []map[string]any
	if err := json.Unmarshal(resp["errors"], &list); err != nil {
		return body, status
	}
	fixed := false
	for _, e := range list {
		ext, _ := e["extensions"].(map[string]any)
		if _, ok := ext["code"]; ok {
			continue
		}
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		ext["code"] = apperr.InvalidInput
		fixed = true
	}
	if !fixed {
		return body, status
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return body, status
	}
	resp["errors"] = raw
	out, err := json.Marshal(resp)
	if err != nil {
		return body, status
	}
	if status < http.StatusBadRequest {
		status = http.StatusBadRequest
	}
	return out, status
}

// limitedBody is a request body bounded by http.MaxBytesReader that
// remembers whether the client sent more than the limit.
type limitedBody struct {
	io.ReadCloser
	over bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.over = true
	}
	return n, err
}

// tooLargeWriter answers 413 for a request whose body went over the limit
// while the handler read it (a chunked body, whose length is not declared).
type tooLargeWriter struct {
	http.ResponseWriter
	body    *limitedBody
	decided bool
}

func (t *tooLargeWriter) WriteHeader(code int) {
	if !t.decided {
		t.decided = true
		if t.body.over {
			code = http.StatusRequestEntityTooLarge
			// The rest of the body is unread: the connection cannot serve
			// another request.
			t.Header().Set("Connection", "close")
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *tooLargeWriter) Write(b []byte) (int, error) {
	if !t.decided {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

func (t *tooLargeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// writeTooLarge refuses a request body over the limit.
func writeTooLarge(w http.ResponseWriter, limit int64, upload bool) {
	msg := fmt.Sprintf("The request body is larger than %d KiB; send a smaller request.", limit>>10)
	if upload {
		msg = fmt.Sprintf("The upload is larger than %d MiB; attach a smaller file or split it.", limit>>20)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": apperr.InvalidInput}}},
	})
}
