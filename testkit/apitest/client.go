package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// Client speaks GraphQL over real HTTP to a test server.
type Client struct {
	URL   string // the server's base URL
	Token string // bearer token; empty sends none
}

// Client returns a client signed in as the demo user (empty: anonymous).
func (s *Server) Client(t testing.TB, handle string) *Client {
	c := &Client{URL: s.URL}
	if handle != "" {
		c.Token = Token(t, handle)
	}
	return c
}

// GQLError is one error of a GraphQL response.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e GQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Response is a GraphQL response and its HTTP status.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
}

// Decode unmarshals the data into v, failing the test on errors.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Do posts an operation as JSON.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) *Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return c.Post(t, "application/json", bytes.NewReader(body))
}

// MustDo is Do that fails the test on any GraphQL error and decodes data.
func (c *Client) MustDo(t testing.TB, query string, vars map[string]any, into any) {
	t.Helper()
	c.Do(t, query, vars).Decode(t, into)
}

// Post sends a raw body to /graphql.
func (c *Client) Post(t testing.TB, contentType string, body io.Reader) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.URL+"/graphql", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/graphql-response+json")
	return c.send(t, req)
}

// Upload sends an operation with one file as a GraphQL multipart request;
// the file goes to the variable named fileVar.
func (c *Client) Upload(t testing.TB, query string, vars map[string]any, fileVar, fileName string, content []byte) *Response {
	t.Helper()
	vars[fileVar] = nil
	ops, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.`+fileVar+`"]}`)
	fw, err := mw.CreateFormFile("0", fileName)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	return c.Post(t, mw.FormDataContentType(), &buf)
}

// Get sends a GET request to path (relative to the server) with the token.
func (c *Client) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (c *Client) send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &Response{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("response is not JSON (HTTP %d): %s", resp.StatusCode, raw)
	}
	out.Status = resp.StatusCode
	return out
}
