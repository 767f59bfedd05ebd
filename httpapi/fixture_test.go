package httpapi_test

// What more than one test file of the package uses: a seeded world with the
// real HTTP API on each database, the claim lifecycle's operations as the
// apps send them, the decoding and assertions of their answers, and
// subscriptions over websockets.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/httpapi"
	"cpor/live"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// eachDialect runs fn as a subtest on every database, with a seeded world
// and the real HTTP API over it.
func eachDialect(t *testing.T, fn func(t *testing.T, w *testkit.World, srv *apitest.Server)) {
	t.Helper()
	eachDialectWith(t, nil, fn)
}

// eachDialectWith is eachDialect with the HTTP configuration tuned.
func eachDialectWith(t *testing.T, tune func(*httpapi.Config), fn func(t *testing.T, w *testkit.World, srv *apitest.Server)) {
	t.Helper()
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		fn(t, w, apitest.NewServerWith(t, w, tune))
	})
}

// The fresh, valid claim target of the lifecycle tests: the demo Woodgrove
// tenant and its unclaimed Dynamics 365 Sales subscription.
const (
	woodgroveTenant = "7f3c2a10-5b8e-4d21-9c3a-000000000006"
	woodgroveDomain = "woodgrovebank.com"
	woodgroveSub    = "5a1e0000-0000-4000-8000-000000000041"
)

// userError is one entry of a payload's userErrors.
type userError struct {
	Code    string
	Field   []string
	Message string
}

// wantUserError fails unless errs holds an error with the code (and, when
// field is given, on that input path).
func wantUserError(t testing.TB, errs []userError, code string, field ...string) {
	t.Helper()
	for _, e := range errs {
		if e.Code == code && (len(field) == 0 || slices.Equal(e.Field, field)) {
			if strings.TrimSpace(e.Message) == "" {
				t.Errorf("userError %s has no message", code)
			}
			return
		}
	}
	t.Fatalf("want userError %s %v, got %+v", code, field, errs)
}

// wantGQLError fails unless the response carries a GraphQL error whose
// extensions.code is code.
func wantGQLError(t testing.TB, r *apitest.Response, code string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("want a GraphQL error %s (HTTP %d), got data %s", code, r.Status, r.Data)
	}
	for _, e := range r.Errors {
		if e.Code() == code {
			return
		}
	}
	t.Fatalf("want GraphQL error %s, got HTTP %d %+v", code, r.Status, r.Errors)
}

// field decodes one top-level field of a response without errors.
func field[T any](t testing.TB, r *apitest.Response, name string) T {
	t.Helper()
	var data map[string]json.RawMessage
	r.Decode(t, &data)
	var v T
	if err := json.Unmarshal(data[name], &v); err != nil {
		t.Fatalf("decode %s from %s: %v", name, r.Data, err)
	}
	return v
}

// run posts an operation and returns one top-level field of the data,
// failing on any GraphQL error.
func run[T any](t testing.TB, c *apitest.Client, query string, vars map[string]any, name string) T {
	t.Helper()
	return field[T](t, c.Do(t, query, vars), name)
}

type actor struct{ ID, Name, Kind string }

type comment struct {
	ID, Kind, Body, CreatedAt string
	Author                    actor
}

type document struct {
	ID, FileName, ContentType, Sha256, UploadedBy, UploadedAt, DownloadURL string
	SizeBytes                                                              int
}

type historyEvent struct {
	ID, Type, Sequence   string
	Event, Reason        *string
	FromStatus, ToStatus *string
	Version              int
	Actor                actor
	Comment              *struct{ ID string }
	ProofOfExecution     *struct{ ID string }
}

type pageInfo struct {
	HasNextPage, HasPreviousPage bool
	StartCursor, EndCursor       *string
}

type claimView struct {
	ID               string
	Status           string
	Version          int
	SolutionArea     string
	Activity         string
	CustomerTenantID string
	CustomerDomain   string
	SubscriptionID   *string
	SubmittedAt      *time.Time
	ReviewDueAt      *time.Time
	Overdue          bool
	DecidedAt        *time.Time
	DecisionReason   *string
	AvailableActions []string
	Organization     struct{ Name string }
	Product          *struct{ ID, Code string }
	Mpn              *struct{ ID, MpnID string }
	CustomerContact  struct{ Name, Title, Email string }
	PartnerContact   struct{ Name, Email string }
	ReclaimedFrom    *struct{ ID string }
	Association      *struct {
		ID, CustomerTenantID, Activity string
		SubscriptionID                 *string
		Active                         bool
		EndedAt                        *time.Time
		EndReason                      *string
	}
	ProofOfExecution struct {
		TotalCount int
		Nodes      []document
	}
	Comments struct {
		TotalCount int
		Nodes      []comment
	}
	History struct {
		TotalCount int
		Nodes      []historyEvent
	}
}

// claimFields are the fields the tests read of a claim.
const claimFields = `
  id status version solutionArea activity customerTenantId customerDomain subscriptionId
  submittedAt reviewDueAt overdue decidedAt decisionReason availableActions
  organization { name } product { id code } mpn { id mpnId }
  customerContact { name title email } partnerContact { name email }
  reclaimedFrom { id }
  association { id customerTenantId activity subscriptionId active endedAt endReason }
  proofOfExecution(first: 50) { totalCount nodes { id fileName contentType sizeBytes sha256 uploadedBy uploadedAt downloadUrl } }
  comments(first: 50) { totalCount nodes { id kind body createdAt author { id name kind } } }
  history(first: 50) { totalCount nodes { id type sequence event reason fromStatus toStatus version actor { id name kind } comment { id } proofOfExecution { id } } }`

const claimQuery = `query($id: ID!) { claim(id: $id) {` + claimFields + `} }`

const createClaimMutation = `mutation($input: CreateClaimInput!) {
  createClaim(input: $input) { claim {` + claimFields + `} userErrors { code field message } clientMutationId } }`

const updateClaimMutation = `mutation($input: UpdateClaimInput!) {
  updateClaim(input: $input) { claim { id version customerDomain } userErrors { code field message } } }`

const attachMutation = `mutation($claimId: ID!, $file: Upload!) {
  attachProofOfExecution(input: {claimId: $claimId, file: $file}) {
    proofOfExecution { id fileName contentType sizeBytes sha256 uploadedBy uploadedAt downloadUrl }
    claim { id version }
    userErrors { code field message } } }`

const addCommentMutation = `mutation($claimId: ID!, $body: String!) {
  addComment(input: {claimId: $claimId, body: $body}) {
    comment { id kind body author { id name kind } } claim { id } userErrors { code field message } } }`

// transitionMutation is the mutation of a workflow event whose input takes
// claimId and expectedVersion, plus the extra input fields given.
func transitionMutation(name, inputType string) string {
	return claimMutation(name, inputType, claimFields)
}

// claimMutation is a mutation whose payload is a claim, read as fields, and
// userErrors.
func claimMutation(name, inputType, fields string) string {
	return fmt.Sprintf(`mutation($input: %s!) { %s(input: $input) { claim {`+fields+`} userErrors { code field message } } }`, inputType, name)
}

var (
	submitMutation      = transitionMutation("submitClaim", "SubmitClaimInput")
	startReviewMutation = transitionMutation("startReview", "StartReviewInput")
	requestInfoMutation = transitionMutation("requestInformation", "RequestInformationInput")
	respondMutation     = transitionMutation("respondToInformationRequest", "RespondToInformationRequestInput")
	withdrawMutation    = transitionMutation("withdrawClaim", "WithdrawClaimInput")
	approveMutation     = transitionMutation("approveClaim", "ApproveClaimInput")
	rejectMutation      = transitionMutation("rejectClaim", "RejectClaimInput")
	escalateMutation    = transitionMutation("escalateClaim", "EscalateClaimInput")
	reclaimMutation     = transitionMutation("reclaim", "ReclaimInput")
)

// payload is a mutation payload as the tests read it.
type payload struct {
	Claim            *claimView
	Comment          *comment
	ProofOfExecution *document
	UserErrors       []userError
	ClientMutationID *string
}

// mutate runs a mutation that must not fail with a GraphQL error and
// returns its payload.
func mutate(t testing.TB, c *apitest.Client, query string, vars map[string]any, name string) payload {
	t.Helper()
	return run[payload](t, c, query, vars, name)
}

// ok fails on any userError and returns the payload's claim.
func (p payload) ok(t testing.TB) *claimView {
	t.Helper()
	if len(p.UserErrors) > 0 {
		t.Fatalf("unexpected userErrors: %+v", p.UserErrors)
	}
	return p.Claim
}

// catalogIDs are what the claim form loads before the partner fills it in.
type catalogIDs struct {
	salesProduct string // D365_SALES, from products(solutionArea: BUSINESS_APPLICATIONS)
	enrolledMpn  string // an enrolled MPN of the caller, from mpns
	otherMpns    []string
}

// formData loads the product and an enrolled MPN as the portal does.
func formData(t testing.TB, c *apitest.Client) catalogIDs {
	t.Helper()
	var out catalogIDs
	products := run[[]struct {
		ID, Code, SolutionArea string
		Dynamics               bool
	}](t, c, `{ products(solutionArea: BUSINESS_APPLICATIONS) { id code solutionArea dynamics } }`, nil, "products")
	for _, p := range products {
		if p.SolutionArea != "BUSINESS_APPLICATIONS" {
			t.Fatalf("products(BUSINESS_APPLICATIONS) returned %+v", p)
		}
		if p.Code == "D365_SALES" {
			out.salesProduct = p.ID
			if !p.Dynamics {
				t.Errorf("D365_SALES is not a Dynamics product: %+v", p)
			}
		}
	}
	mpns := run[[]struct {
		ID, MpnID string
		Enrolled  bool
	}](t, c, `{ mpns { id mpnId enrolled } }`, nil, "mpns")
	for _, m := range mpns {
		if m.Enrolled && out.enrolledMpn == "" {
			out.enrolledMpn = m.ID
		} else {
			out.otherMpns = append(out.otherMpns, m.ID)
		}
	}
	if out.salesProduct == "" || out.enrolledMpn == "" {
		t.Fatalf("no D365_SALES product (%+v) or enrolled MPN (%+v)", products, mpns)
	}
	return out
}

// claimInput is a complete, valid createClaim input for the target.
func claimInput(ids catalogIDs, tenant, domain, sub string) map[string]any {
	return map[string]any{
		"solutionArea":     "BUSINESS_APPLICATIONS",
		"activity":         "USAGE",
		"customerTenantId": tenant,
		"customerDomain":   domain,
		"productId":        ids.salesProduct,
		"subscriptionId":   sub,
		"mpnId":            ids.enrolledMpn,
		"customerContact":  map[string]any{"name": "Dana Whitfield", "title": "CIO", "email": "dana@" + domain},
		"partnerContact":   map[string]any{"name": "Sam Partner", "email": "sam@contoso.example"},
		"notes":            "Ran the Sales adoption workshops in Q1.",
		"clientMutationId": "create-1",
	}
}

// createDraft creates a valid draft as the client and returns it.
func createDraft(t testing.TB, c *apitest.Client, input map[string]any) *claimView {
	t.Helper()
	return mutate(t, c, createClaimMutation, map[string]any{"input": input}, "createClaim").ok(t)
}

// attach uploads a file to the claim and returns the payload.
func attach(t testing.TB, c *apitest.Client, claimID, fileName string, content []byte) payload {
	t.Helper()
	r := c.Upload(t, attachMutation, map[string]any{"claimId": claimID}, "file", fileName, content)
	return field[payload](t, r, "attachProofOfExecution")
}

// fire runs a workflow mutation with the input and returns its payload.
func fire(t testing.TB, c *apitest.Client, mutation, name string, input map[string]any) payload {
	t.Helper()
	return mutate(t, c, mutation, map[string]any{"input": input}, name)
}

// readClaim reads a claim as the client; nil when the API answers null.
func readClaim(t testing.TB, c *apitest.Client, id string) *claimView {
	t.Helper()
	return run[*claimView](t, c, claimQuery, map[string]any{"id": id}, "claim")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// statusChanges are the STATUS_CHANGED entries of a history, as
// "event:from->to by actor".
func statusChanges(h []historyEvent) []string {
	var out []string
	for _, e := range h {
		if e.Type != "STATUS_CHANGED" {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%s->%s by %s/%s", deref(e.Event), deref(e.FromStatus), deref(e.ToStatus), e.Actor.ID, e.Actor.Kind))
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// download GETs a document URL as the client.
func download(t testing.TB, c *apitest.Client, path string) (*http.Response, []byte) {
	t.Helper()
	resp := c.Get(t, path)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// snapshot is what the database holds, to check that a refused request
// stored and changed nothing.
type snapshot struct {
	Counts map[string]int64
	Claims string // every claim's id, status, version and update time
	Assocs string // every association's id and end
}

func takeSnapshot(t testing.TB, w *testkit.World) snapshot {
	t.Helper()
	s := snapshot{Counts: map[string]int64{}}
	for name, model := range map[string]any{
		"claims": &models.Claim{}, "documents": &models.Document{}, "document_contents": &models.DocumentContent{},
		"comments": &models.Comment{}, "claim_events": &models.ClaimEvent{}, "associations": &models.Association{},
		"tenants": &models.CustomerTenant{}, "subscriptions": &models.Subscription{}, "products": &models.Product{},
		"mpns": &models.Mpn{},
	} {
		var n int64
		if err := w.DB.Model(model).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		s.Counts[name] = n
	}
	var cs []models.Claim
	if err := w.DB.Order("id").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %d %s %s %s|", c.ID, c.Status, c.Version, c.UpdatedAt.UTC().Format(time.RFC3339Nano), c.CustomerDomain, c.Notes)
	}
	s.Claims = b.String()
	var as []models.Association
	if err := w.DB.Order("id").Find(&as).Error; err != nil {
		t.Fatal(err)
	}
	b.Reset()
	for _, a := range as {
		ended, reason := "-", "-"
		if a.EndedAt != nil {
			ended = a.EndedAt.UTC().Format(time.RFC3339Nano)
		}
		if a.EndReason != nil {
			reason = string(*a.EndReason)
		}
		fmt.Fprintf(&b, "%s %s %s|", a.ID, ended, reason)
	}
	s.Assocs = b.String()
	return s
}

// unchanged fails when the database differs from the snapshot.
func unchanged(t testing.TB, w *testkit.World, before snapshot, what string) {
	t.Helper()
	after := takeSnapshot(t, w)
	for k, v := range before.Counts {
		if after.Counts[k] != v {
			t.Errorf("%s: %s went from %d to %d rows", what, k, v, after.Counts[k])
		}
	}
	if after.Claims != before.Claims {
		t.Errorf("%s changed a claim", what)
	}
	if after.Assocs != before.Assocs {
		t.Errorf("%s changed an association", what)
	}
}

// Lists of claims, as the portal pages through them.

// claimsPage is one page of the claims connection.
type claimsPage struct {
	TotalCount int
	PageInfo   pageInfo
	Edges      []struct {
		Cursor string
		Node   struct{ ID, Status string }
	}
	Nodes []struct {
		ID, Status, CreatedAt string
		Overdue               bool
		Organization          struct{ Name string }
	}
}

const claimsPageQuery = `query($filter: ClaimFilter, $first: Int, $after: String, $last: Int, $before: String) {
  claims(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status } }
    nodes { id status createdAt overdue organization { name } } } }`

func claimsOf(t testing.TB, c *apitest.Client, vars map[string]any) claimsPage {
	t.Helper()
	return run[claimsPage](t, c, claimsPageQuery, vars, "claims")
}

// mustParseGlobalUUID reads the UUID inside a global ID.
func mustParseGlobalUUID(t testing.TB, id string) uuid.UUID {
	t.Helper()
	typ, key, ok := relay.ParseGlobalID(id)
	if !ok {
		t.Fatalf("%q is not a global ID", id)
	}
	u, err := uuid.Parse(key)
	if err != nil {
		t.Fatalf("%s ID %q has no UUID: %v", typ, id, err)
	}
	return u
}

// mustFirstClaim returns the ID of the newest claim the client sees.
func mustFirstClaim(t testing.TB, c *apitest.Client) string {
	t.Helper()
	p := claimsOf(t, c, map[string]any{"first": 1})
	if len(p.Nodes) == 0 {
		t.Fatal("no claims")
	}
	return p.Nodes[0].ID
}

// The lifecycle as the benchmark and the statement budget read it.

type benchClaim struct {
	ID          string
	Status      string
	Version     int
	Association *struct {
		ID     string
		Active bool
	}
}

type benchPayload struct {
	Claim      *benchClaim
	UserErrors []userError
}

func (p benchPayload) must(b *testing.B, step, status string) *benchClaim {
	b.Helper()
	return p.mustT(b, step, status)
}

// mustT is must for any test: the claim of a payload without user errors,
// in the status when one is given.
func (p benchPayload) mustT(t testing.TB, step, status string) *benchClaim {
	t.Helper()
	if len(p.UserErrors) > 0 || p.Claim == nil || (status != "" && p.Claim.Status != status) {
		t.Fatalf("%s: %+v %+v", step, p.Claim, p.UserErrors)
	}
	return p.Claim
}

// Requests as raw HTTP, and logs read back.

func jsonQuery(query string) []byte {
	body, _ := json.Marshal(map[string]string{"query": query})
	return body
}

// rawDo posts a query with headers and returns the status, headers and body.
func rawDo(t testing.TB, url, query string, header http.Header) (*http.Response, apitest.Response, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out apitest.Response
	var ext struct {
		Extensions map[string]any `json:"extensions"`
	}
	_ = json.Unmarshal(raw, &out)
	_ = json.Unmarshal(raw, &ext)
	out.Status = resp.StatusCode
	return resp, out, ext.Extensions
}

func bearer(t testing.TB, handle string) http.Header {
	return http.Header{"Authorization": {"Bearer " + apitest.Token(t, handle)}}
}

// syncLog collects log lines for a test to read.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// npmPackage returns the directory of an npm package under testdata,
// installed from its lock file when it is not yet.
func npmPackage(t *testing.T, pkg string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", pkg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s (needs node and npm): %v\n%s", pkg, err, out)
		}
	}
	return dir
}

// Subscriptions over websockets.

const reviewOverWS = `mutation ($id: ID!) { startReview(input: {claimId: $id}) { claim { status } } }`

// endedWith reads the next message of the operation id, which must be an
// error with the code, and returns the error.
func endedWith(t *testing.T, ws *apitest.WS, id, code string, timeout time.Duration) apitest.GQLError {
	t.Helper()
	errs, err := ws.NextFor(id, timeout).Errors()
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Code() != code {
		t.Fatalf("%s ended with %+v, want one %s error", id, errs, code)
	}
	return errs[0]
}

const statusSubscription = `subscription ($id: ID, $after: String) {
  claimStatusChanged(claimId: $id, after: $after) {
    cursor status previousStatus event reason at actor { name kind }
    claim { id status version organization { name } product { name } }
  }
}`

const commentSubscription = `subscription ($id: ID!, $after: String) {
  commentAdded(claimId: $id, after: $after) { cursor comment { kind body author { name } } claim { id } }
}`

type statusEvent struct {
	Cursor         string
	Status         string
	PreviousStatus string
	Event          string
	Claim          struct {
		ID           string
		Status       string
		Organization struct{ Name string }
	}
}

type commentEvent struct {
	Cursor  string
	Comment struct{ Kind, Body string }
}

// next reads the next data message for the subscription id and decodes the
// field's payload into v.
func next(t *testing.T, ws *apitest.WS, id, field string, v any) {
	t.Helper()
	m := ws.NextFor(id, 10*time.Second)
	if m.Type != "next" && m.Type != "data" {
		t.Fatalf("expected an event for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var body struct {
		Data   map[string]json.RawMessage
		Errors []apitest.GQLError
	}
	if err := json.Unmarshal(m.Payload, &body); err != nil || len(body.Errors) > 0 {
		t.Fatalf("bad event %s: %v", m.Payload, err)
	}
	if err := json.Unmarshal(body.Data[field], v); err != nil {
		t.Fatal(err)
	}
}

// quiet checks that nothing more arrives for a while: exactly once.
func quiet(t *testing.T, ws *apitest.WS) {
	t.Helper()
	if ws.Pending() > 0 {
		t.Fatalf("%d unexpected extra messages", ws.Pending())
	}
	if m, err := ws.Read(300 * time.Millisecond); err == nil {
		t.Fatalf("unexpected extra message: %s %s %s", m.Type, m.ID, m.Payload)
	}
}

// waitSubscribers waits until the hub holds n subscribers, so events
// produced next are certain to be live for them.
func waitSubscribers(t *testing.T, hub *live.Hub, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Stats().Subscribers < n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d subscribers, want %d", hub.Stats().Subscribers, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func claimWithStatus(t *testing.T, w *testkit.World, org uuid.UUID, status models.ClaimStatus) uuid.UUID {
	t.Helper()
	var c models.Claim
	if err := w.DB.Where("organization_id = ? AND status = ?", org, status).Order("created_at").Take(&c).Error; err != nil {
		t.Fatalf("no %s claim: %v", status, err)
	}
	return c.ID
}

func gid(id uuid.UUID) string { return relay.UUIDGlobalID(relay.TypeClaim, id) }

var (
	contoso  = uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000a01")
	fabrikam = uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000b01")
)

// submitFresh creates and submits a new claim for Contoso on a fresh
// customer, returning its ID: one status event per call.
func submitFresh(t *testing.T, w *testkit.World, i int) uuid.UUID {
	t.Helper()
	return testkit.SubmitFreshClaim(t, w, "ada", fmt.Sprintf("live%d", i))
}

// continuesLive checks that the status subscription id on ws, having
// replayed what it missed, receives a new event live, and nothing else,
// once the hub holds all subscribers; i names the new claim.
func continuesLive(t *testing.T, w *testkit.World, ws *apitest.WS, id string, subscribers int64, i int) {
	t.Helper()
	waitSubscribers(t, w.Live, subscribers)
	claim := submitFresh(t, w, i)
	var ev statusEvent
	next(t, ws, id, "claimStatusChanged", &ev)
	if ev.Claim.ID != gid(claim) {
		t.Fatalf("after the replay, got %+v", ev)
	}
	quiet(t, ws)
}

// startReferenceClient runs a script of testdata/graphql-ws-client, which
// uses the graphql-ws package from npm (installed here from the lock file),
// against the server, with env added to its environment. The function it
// returns waits for the script to exit successfully and returns the lines
// it printed.
func startReferenceClient(t *testing.T, srv *apitest.Server, script string, env ...string) func() []string {
	t.Helper()
	dir := npmPackage(t, "graphql-ws-client")
	cmd := exec.Command("node", script)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CPOR_WS_URL=ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return func() []string {
		t.Helper()
		var out []string
		for l := range lines {
			out = append(out, l)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s failed: %v\nstdout: %v\nstderr: %s", script, err, out, stderr.String())
		}
		return out
	}
}

// subscriptionRenders reads from /metrics how many subscription results
// the server has executed.
func subscriptionRenders(t *testing.T, srv *apitest.Server) int {
	t.Helper()
	resp := (&apitest.Client{URL: srv.Admin.URL}).Get(t, "/metrics")
	// Summed over operation names.
	const series, kind = "cpor_graphql_operation_duration_seconds_count{", `operation="subscription",outcome="ok"} `
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), series)
		if !ok {
			continue
		}
		if _, v, ok := strings.Cut(line, kind); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("metric %q: %v", sc.Text(), err)
			}
			total += n
		}
	}
	return total
}
