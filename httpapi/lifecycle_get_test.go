package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// GraphQL over GET: queries only, as the specification allows.

func TestGraphQLOverGET(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		get := func(query string, vars map[string]any) (*http.Response, *apitest.Response) {
			t.Helper()
			v := url.Values{"query": {query}}
			if vars != nil {
				b, _ := json.Marshal(vars)
				v.Set("variables", string(b))
			}
			resp := ada.Get(t, "/graphql?"+v.Encode())
			raw, _ := io.ReadAll(resp.Body)
			out := &apitest.Response{Status: resp.StatusCode}
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("GET answered HTTP %d with non-JSON %s", resp.StatusCode, raw)
			}
			return resp, out
		}

		// A query works.
		_, r := get(`{ viewer { userId } claims(first: 1) { totalCount } }`, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET query: HTTP %d %+v", r.Status, r.Errors)
		}
		var data struct {
			Viewer struct{ UserID string }
			Claims struct{ TotalCount int }
		}
		r.Decode(t, &data)
		if data.Viewer.UserID != "ada@contoso.example" || data.Claims.TotalCount == 0 {
			t.Errorf("GET query data: %s", r.Data)
		}
		// With variables too.
		_, r = get(`query($a: SolutionArea!) { activities(solutionArea: $a) { activity } }`, map[string]any{"a": "MICROSOFT_365"})
		var acts struct{ Activities []struct{ Activity string } }
		r.Decode(t, &acts)
		if len(acts.Activities) != 1 || acts.Activities[0].Activity != "USAGE" {
			t.Errorf("activities(MICROSOFT_365) over GET: %s", r.Data)
		}

		// A mutation over GET is refused and changes nothing.
		ids := formData(t, ada)
		before := takeSnapshot(t, w)
		b, _ := json.Marshal(claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		_, r = get(`mutation($input: CreateClaimInput!) { createClaim(input: $input) { claim { id } } }`, map[string]any{"input": json.RawMessage(b)})
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("mutation over GET: HTTP %d", r.Status)
		}
		if len(r.Errors) == 0 || len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("mutation over GET answered %s %+v", r.Data, r.Errors)
		}
		wantGQLError(t, r, "INVALID_INPUT")
		claim := mustFirstClaim(t, ada)
		_, r = get(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`,
			map[string]any{"input": map[string]any{"claimId": claim, "body": "via GET"}})
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("addComment over GET: HTTP %d", r.Status)
		}
		unchanged(t, w, before, "mutations over GET")

		// Variables that are not JSON: a client error with a code.
		resp := ada.Get(t, "/graphql?query="+url.QueryEscape(`query($a: SolutionArea!) { activities(solutionArea: $a) { activity } }`)+"&variables=%7Bnot-json")
		raw, _ := io.ReadAll(resp.Body)
		var bad apitest.Response
		if err := json.Unmarshal(raw, &bad); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET with bad variables: HTTP %d %s", resp.StatusCode, raw)
		}
		wantGQLError(t, &bad, "INVALID_INPUT")
	})
}
