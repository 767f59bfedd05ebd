package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// requestError is a request this API cannot read: the client's fault, with
// the HTTP status to answer and a message that never repeats what was sent.
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return e.message }

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// maxMapBytes bounds the multipart request's map field: a few paths.
const maxMapBytes = 64 << 10

// readParams reads a GraphQL request: a JSON body (POST), URL parameters
// (GET) or a GraphQL multipart request (uploads).
func readParams(r *http.Request, maxBody int64) (*graphql.RawParams, *requestError) {
	if r.Method == http.MethodGet {
		return readQueryString(r.URL.Query())
	}
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil && r.Header.Get("Content-Type") != "":
		return nil, &requestError{http.StatusUnsupportedMediaType, "The Content-Type header does not parse; send application/json."}
	case media == "application/json":
		return readJSONBody(r.Body, maxBody)
	case media == "multipart/form-data":
		return readMultipart(r, maxBody)
	}
	return nil, &requestError{http.StatusUnsupportedMediaType,
		"Send the operation as application/json (or multipart/form-data with files), not " + strconv.Quote(media) + "."}
}

// jsonParams is a GraphQL request's JSON shape; the field types make the
// decoder refuse a query that is not a string and variables that are not
// an object.
type jsonParams struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

func readJSONBody(body io.Reader, limit int64) (*graphql.RawParams, *requestError) {
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, tooLargeError(limit)
		}
		return nil, badRequest("The request body could not be read.")
	}
	if int64(len(raw)) > limit {
		return nil, tooLargeError(limit)
	}
	return decodeParams(raw, "The request body")
}

// decodeParams decodes a GraphQL request object; what names where it came
// from in the message.
func decodeParams(raw []byte, what string) (*graphql.RawParams, *requestError) {
	var p jsonParams
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, badRequest("%s is not a GraphQL request: %s. Send a JSON object with a string \"query\" and optional \"variables\" and \"operationName\".", what, jsonProblem(err))
	}
	if dec.More() {
		return nil, badRequest("%s has more than one JSON value; send one object.", what)
	}
	if p.Query == nil {
		return nil, badRequest("%s has no \"query\".", what)
	}
	params := &graphql.RawParams{Query: *p.Query, Variables: p.Variables, Extensions: p.Extensions}
	if p.OperationName != nil {
		params.OperationName = *p.OperationName
	}
	return params, nil
}

// jsonProblem says what is wrong with a JSON document without quoting it.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "not a JSON object"
		}
		return fmt.Sprintf("%q must not be a JSON %s", typ.Field, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return "invalid JSON"
}

func readQueryString(q url.Values) (*graphql.RawParams, *requestError) {
	if !q.Has("query") {
		return nil, badRequest("A GET request needs a query parameter.")
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for name, dest := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(dest); err != nil {
				return nil, badRequest("The %s parameter is not a JSON object: %s.", name, jsonProblem(err))
			}
		}
	}
	return params, nil
}

// readMultipart reads a GraphQL multipart request: the operations field
// (bounded like a JSON body), the map field, then the files, which the
// upload limit on the whole body bounds.
func readMultipart(r *http.Request, maxBody int64) (*graphql.RawParams, *requestError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("The multipart request does not parse.")
	}
	ops, rerr := readField(mr, "operations", maxBody)
	if rerr != nil {
		return nil, rerr
	}
	params, rerr := decodeParams(ops, "The operations field")
	if rerr != nil {
		return nil, rerr
	}
	rawMap, rerr := readField(mr, "map", maxMapBytes)
	if rerr != nil {
		return nil, rerr
	}
	var files map[string][]string
	if err := json.Unmarshal(rawMap, &files); err != nil {
		return nil, badRequest("The map field is not a JSON object of file keys to variable paths.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, partError(err)
		}
		if rerr := attachFile(params, files, part); rerr != nil {
			return nil, rerr
		}
	}
	if len(files) > 0 {
		return nil, badRequest("The map names files the request does not contain.")
	}
	return params, nil
}

// readField reads the next part, which must be the named field, up to limit
// bytes.
func readField(mr *multipart.Reader, name string, limit int64) ([]byte, *requestError) {
	part, err := mr.NextPart()
	if err != nil {
		return nil, partError(err)
	}
	if part.FormName() != name {
		return nil, badRequest("The multipart request must send the %s field next (GraphQL multipart request specification).", name)
	}
	b, err := io.ReadAll(io.LimitReader(part, limit+1))
	if err != nil {
		return nil, partError(err)
	}
	if int64(len(b)) > limit {
		return nil, &requestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("The %s field is larger than %d KiB; send a smaller request.", name, limit>>10)}
	}
	return b, nil
}

func attachFile(params *graphql.RawParams, files map[string][]string, part *multipart.Part) *requestError {
	key := part.FormName()
	paths, ok := files[key]
	if !ok || len(paths) == 0 {
		return badRequest("The map names no variable for the file field %q.", truncate(key, 64))
	}
	delete(files, key)
	content, err := io.ReadAll(part)
	if err != nil {
		return partError(err)
	}
	for _, path := range paths {
		upload := graphql.Upload{
			File: bytes.NewReader(content), Size: int64(len(content)),
			Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"),
		}
		if !setVariable(params.Variables, path, upload) {
			return badRequest("The map path %q names no variable of the operation.", truncate(path, 128))
		}
	}
	return nil
}

// setVariable puts v at a map path such as "variables.input.files.0"; false
// when the path does not lead to a place the operations field holds.
func setVariable(vars map[string]any, path string, v any) bool {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" || vars == nil {
		return false
	}
	var at any = vars
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		switch node := at.(type) {
		case map[string]any:
			if _, ok := node[p]; !ok {
				return false
			}
			if last {
				node[p] = v
				return true
			}
			at = node[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(node) {
				return false
			}
			if last {
				node[n] = v
				return true
			}
			at = node[n]
		default:
			return false
		}
	}
	return false
}

func partError(err error) *requestError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &requestError{http.StatusRequestEntityTooLarge, "The upload is larger than the limit; attach a smaller file."}
	}
	return badRequest("The multipart request does not parse.")
}

func tooLargeError(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge,
		fmt.Sprintf("The request body is larger than %d KiB; send a smaller request.", limit>>10)}
}
