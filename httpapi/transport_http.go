package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
)

// Media types a GraphQL response is written in.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
	mediaMultipartMixed  = "multipart/mixed"
)

// httpTransport serves GraphQL over HTTP as the GraphQL-over-HTTP
// specification describes: POST with a JSON body, GET for queries, and
// GraphQL multipart requests for uploads; @defer is delivered
// incrementally to clients that accept multipart/mixed, and resolved in
// place for the rest. It replaces gqlgen's transports, which quote an undecodable
// body back in the error, read a multipart operations field without bound
// and answer request errors 422 whatever the client accepts.
type httpTransport struct {
	maxBody int64
}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodPost || r.Method == http.MethodGet)
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRequestError(w, mediaJSON, http.StatusNotAcceptable, gqlerror.List{codedError(
			"Accept application/graphql-response+json or application/json.", apperr.InvalidInput)})
		return
	}
	start := graphql.Now()
	params, rerr := readParams(r, t.maxBody)
	if rerr != nil {
		if rerr.status == http.StatusRequestEntityTooLarge {
			w.Header().Set("Connection", "close")
		}
		writeRequestError(w, media, rerr.status, gqlerror.List{codedError(rerr.message, apperr.InvalidInput)})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		writeRequestError(w, media, requestErrorStatus(media, resp.Errors), resp.Errors, resp.Extensions)
		return
	}
	if r.Method == http.MethodGet && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeRequestError(w, media, http.StatusMethodNotAllowed, gqlerror.List{codedError(
			"Only queries may be sent with GET; send mutations with POST.", apperr.InvalidInput)})
		return
	}
	if media != mediaMultipartMixed && strings.Contains(rc.RawQuery, "@defer") {
		rc.Doc, rc.Operation = withoutDefer(rc.Doc, rc.Operation)
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	first := responses(ctx)
	if first == nil {
		first = &graphql.Response{Errors: gqlerror.List{cancelled(ctx)}}
	}
	if hasNext(first) {
		streamIncremental(w, ctx, first, responses)
		return
	}
	writeJSON(w, media, http.StatusOK, first)
}

// negotiate picks the response media type from the Accept header: the
// first the client lists that this API writes, application/json when it
// sends none (the specification's rule for older clients); ok is false
// when it accepts nothing this API writes.
func negotiate(accept string) (media string, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case mediaGraphQLResponse, mediaJSON, mediaMultipartMixed:
			return mt, true
		case "*/*", "application/*":
			return mediaJSON, true
		}
	}
	return "", false
}

// requestErrorStatus is the status of a request that failed before it
// ran (it did not parse, validate, fit the limits or the caller's
// budget): 429 when over budget; otherwise 400 for clients that accept
// application/graphql-response+json and 200 for application/json, as the
// GraphQL-over-HTTP specification says.
func requestErrorStatus(media string, errs gqlerror.List) int {
	for _, e := range errs {
		if e.Extensions["code"] == apperr.RateLimited {
			return http.StatusTooManyRequests
		}
	}
	if media == mediaJSON {
		return http.StatusOK
	}
	return http.StatusBadRequest
}

// writeRequestError answers a request that did not run: errors and no data
// entry at all.
func writeRequestError(w http.ResponseWriter, media string, status int, errs gqlerror.List, extensions ...map[string]any) {
	body := struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{Errors: errs}
	if len(extensions) > 0 {
		body.Extensions = extensions[0]
	}
	if status == http.StatusTooManyRequests {
		if after, ok := retryAfter(errs); ok {
			w.Header().Set("Retry-After", strconv.Itoa(after))
		}
	}
	writeJSON(w, media, status, body)
}

func writeJSON(w http.ResponseWriter, media string, status int, body any) {
	if media == mediaMultipartMixed {
		media = mediaJSON // a single result needs no parts
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{"errors":[{"message":"The response could not be encoded.","extensions":{"code":"INTERNAL"}}]}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// cancelled is the error of an operation that never ran because its
// context ended first.
func cancelled(ctx context.Context) *gqlerror.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return codedError("The operation ran past its deadline and was cancelled; nothing it was changing was kept. Ask for less, or retry.", apperr.Timeout)
	}
	return codedError("The operation was cancelled.", apperr.Internal)
}

func codedError(msg string, code apperr.Code) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// retryAfter is the whole seconds a rate-limited caller should wait.
func retryAfter(errs gqlerror.List) (int, bool) {
	for _, e := range errs {
		if s, ok := e.Extensions["retryAfter"].(int); ok {
			return s, true
		}
	}
	return 0, false
}

func hasNext(r *graphql.Response) bool { return r.HasNext != nil && *r.HasNext }

// drain discards what a cancelled stream still yields so that its
// goroutines end.
func drain(ctx context.Context, responses graphql.ResponseHandler) {
	for r := responses(ctx); r != nil && hasNext(r); r = responses(ctx) {
	}
}
