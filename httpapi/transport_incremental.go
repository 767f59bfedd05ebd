package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Incremental delivery of @defer, as the GraphQL-over-HTTP incremental
// delivery RFC lays out (the format Apollo Client, Relay and urql read):
// the initial result, then each deferred fragment as it completes, in
// parts of a multipart/mixed response.

const incrementalBoundary = "-"

// incrementalPayload is one part after the first: the deferred results
// that completed, and whether more will come.
type incrementalPayload struct {
	Incremental []incrementalResult `json:"incremental"`
	HasNext     bool                `json:"hasNext"`
}

type incrementalResult struct {
	Data   json.RawMessage `json:"data"`
	Path   ast.Path        `json:"path"`
	Label  string          `json:"label,omitempty"`
	Errors gqlerror.List   `json:"errors,omitempty"`
}

// streamIncremental writes the initial result and every deferred result as
// it completes. Each part is followed at once by the next delimiter, so the
// client knows a part is whole as soon as it arrives; the last delimiter
// closes the response.
func streamIncremental(w http.ResponseWriter, ctx context.Context, first *graphql.Response, responses graphql.ResponseHandler) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", fmt.Sprintf(`multipart/mixed; boundary="%s"; deferSpec=20220824`, incrementalBoundary))
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "--%s", incrementalBoundary)
	writePart(w, first)
	_ = rc.Flush()
	for more := true; more; {
		next := responses(ctx)
		if next == nil {
			break
		}
		more = hasNext(next)
		writePart(w, incrementalPayload{
			Incremental: []incrementalResult{{Data: next.Data, Path: next.Path, Label: next.Label, Errors: next.Errors}},
			HasNext:     more,
		})
		if err := rc.Flush(); err != nil {
			drain(ctx, responses) // the client left
			return
		}
	}
	fmt.Fprint(w, "--\r\n")
}

// writePart writes one part and the delimiter after it.
func writePart(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"errors":[{"message":"The response could not be encoded.","extensions":{"code":"INTERNAL"}}],"hasNext":false}`)
	}
	fmt.Fprint(w, "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")
	_, _ = w.Write(b)
	fmt.Fprintf(w, "\r\n--%s", incrementalBoundary)
}

// withoutDefer returns the document and operation with every @defer
// removed, for a client that takes one response: it gets exactly what it
// would without @defer, fields in selection order. The cached document is
// shared by every request, so the selection sets are copied, not edited.
func withoutDefer(doc *ast.QueryDocument, op *ast.OperationDefinition) (*ast.QueryDocument, *ast.OperationDefinition) {
	opCopy := *op
	opCopy.SelectionSet = copyWithoutDefer(op.SelectionSet)
	docCopy := &ast.QueryDocument{Operations: ast.OperationList{&opCopy}, Position: doc.Position, Comment: doc.Comment}
	for _, f := range doc.Fragments {
		fc := *f
		fc.SelectionSet = copyWithoutDefer(f.SelectionSet)
		docCopy.Fragments = append(docCopy.Fragments, &fc)
	}
	return docCopy, &opCopy
}

func copyWithoutDefer(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c := *s
			c.SelectionSet = copyWithoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.Directives = dropDefer(s.Directives)
			c.SelectionSet = copyWithoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Directives = dropDefer(s.Directives)
			out[i] = &c
		default:
			out[i] = sel
		}
	}
	return out
}

func dropDefer(list ast.DirectiveList) ast.DirectiveList {
	out := make(ast.DirectiveList, 0, len(list))
	for _, d := range list {
		if d.Name != "defer" {
			out = append(out, d)
		}
	}
	return out
}
