package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/demo"
	"cpor/relay"
)

const jsonType = "application/json"

// errNoSpares ends a lifecycle worker: every spare subscription is claimed
// (seed more with -spares).
var errNoSpares = errors.New("no spare subscription left to claim (raise -spares)")

func mint(id auth.Identity) (string, error) {
	return auth.Mint([]byte(secret), id, "cpor", "", 6*time.Hour)
}

func request(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // the bench's own literals always encode
	}
	return b
}

// readScenarios are page and claim, against the service (peer false) or
// PostGraphile (peer true); each request body is encoded once, up front.
func readScenarios(ds *dataSet, endpoint, reviewer string, peer bool) (page, claim *scenario) {
	pageBody := request(claimsPage, nil)
	if peer {
		pageBody = request(peerPage, nil)
	}
	claimBodies := make([][]byte, len(ds.claimIDs))
	for i, id := range ds.claimIDs {
		if peer {
			claimBodies[i] = request(peerClaim, map[string]any{"id": id.String()})
		} else {
			claimBodies[i] = request(oneClaim, map[string]any{"id": relay.UUIDGlobalID(relay.TypeClaim, id)})
		}
	}
	page = &scenario{name: "page", unit: "req", requests: 1, forPeer: true, run: func(ctx context.Context, w *worker) error {
		_, err := w.post(ctx, endpoint, reviewer, jsonType, pageBody)
		return err
	}}
	claim = &scenario{name: "claim", unit: "req", requests: 1, forPeer: true, run: func(ctx context.Context, w *worker) error {
		_, err := w.post(ctx, endpoint, reviewer, jsonType, claimBodies[w.rng.IntN(len(claimBodies))])
		return err
	}}
	return page, claim
}

// lifecycle files and decides fresh claims, each on a spare subscription:
// create, attach proof, submit (as the organisation's admin), start review,
// approve (as a reviewer).
type lifecycle struct {
	endpoint string
	reviewer string
	partners []lifecyclePartner
	spares   []spare
	next     atomic.Int64
	products map[uuid.UUID]string // product ID → global ID
}

type lifecyclePartner struct {
	token string
	mpn   string // global ID
	name  string
	email string
}

func newLifecycle(ds *dataSet, endpoint, reviewer string) (*lifecycle, error) {
	l := &lifecycle{endpoint: endpoint, reviewer: reviewer, spares: ds.spares, products: map[uuid.UUID]string{}}
	for _, p := range ds.partners {
		tok, err := mint(p.identity)
		if err != nil {
			return nil, err
		}
		l.partners = append(l.partners, lifecyclePartner{token: tok, mpn: relay.UUIDGlobalID(relay.TypeMpn, p.mpn),
			name: p.identity.Name, email: p.identity.Email})
	}
	for _, id := range ds.products {
		l.products[id] = relay.UUIDGlobalID(relay.TypeProduct, id)
	}
	return l, nil
}

func (l *lifecycle) scenario() *scenario {
	return &scenario{name: "lifecycle", unit: "lifecycle", requests: 5, run: l.run}
}

// payload is the part of a mutation's payload the lifecycle checks.
type payload struct {
	Claim *struct {
		ID      string
		Status  string
		Version int
	}
	UserErrors []struct{ Code, Message string }
}

func (l *lifecycle) run(ctx context.Context, w *worker) error {
	n := l.next.Add(1) - 1
	if n >= int64(len(l.spares)) {
		return errNoSpares
	}
	sp := l.spares[n]
	p := l.partners[w.id%len(l.partners)]
	created, err := l.mutate(ctx, w, "createClaim", p.token, jsonType, request(createClaim, map[string]any{"input": map[string]any{
		"solutionArea": "BUSINESS_APPLICATIONS", "activity": "USAGE", "customerTenantId": sp.tenant.String(),
		"customerDomain": sp.domain, "subscriptionId": sp.subscription.String(), "productId": l.products[sp.product], "mpnId": p.mpn,
		"customerContact": map[string]any{"name": "Dana Customer", "title": "CIO", "email": "dana@" + sp.domain},
		"partnerContact":  map[string]any{"name": p.name, "email": p.email},
	}}))
	if err != nil {
		return err
	}
	id := created.Claim.ID
	body, contentType := l.upload(w, id)
	attached, err := l.mutate(ctx, w, "attachProofOfExecution", p.token, contentType, body)
	if err != nil {
		return err
	}
	v := attached.Claim.Version
	steps := []struct {
		field, token, doc, want string
	}{
		{"submitClaim", p.token, submitClaim, "SUBMITTED"},
		{"startReview", l.reviewer, startReview, "UNDER_REVIEW"},
		{"approveClaim", l.reviewer, approveClaim, "APPROVED"},
	}
	for _, s := range steps {
		out, err := l.mutate(ctx, w, s.field, s.token, jsonType, request(s.doc, map[string]any{"id": id, "v": v}))
		if err != nil {
			return err
		}
		if out.Claim.Status != s.want {
			return fmt.Errorf("%s: claim is %s, not %s", s.field, out.Claim.Status, s.want)
		}
		v = out.Claim.Version
	}
	return nil
}

// mutate sends a mutation and decodes its payload; user errors, or no claim,
// fail the lifecycle.
func (l *lifecycle) mutate(ctx context.Context, w *worker, field, token, contentType string, body []byte) (*payload, error) {
	raw, err := w.post(ctx, l.endpoint, token, contentType, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	var out struct{ Data map[string]*payload }
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", field, err)
	}
	p := out.Data[field]
	switch {
	case p == nil:
		return nil, fmt.Errorf("%s: no payload: %s", field, clip(raw))
	case len(p.UserErrors) > 0:
		return nil, fmt.Errorf("%s: %s: %s", field, p.UserErrors[0].Code, p.UserErrors[0].Message)
	case p.Claim == nil:
		return nil, fmt.Errorf("%s: no claim: %s", field, clip(raw))
	}
	return p, nil
}

// upload encodes a GraphQL multipart request (operations, map, the file)
// attaching the proof PDF to the claim, in the worker's body buffer.
func (l *lifecycle) upload(w *worker, claimID string) ([]byte, string) {
	w.body.Reset()
	mw := multipart.NewWriter(&w.body)
	_ = mw.WriteField("operations", string(request(attachProof, map[string]any{"id": claimID, "file": nil})))
	_ = mw.WriteField("map", `{"0":["variables.file"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="0"; filename="workshop-summary.pdf"`)
	h.Set("Content-Type", "application/pdf")
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(demo.SamplePDF)
	_ = mw.Close()
	return w.body.Bytes(), mw.FormDataContentType()
}

func reviewerToken() (string, error) {
	rita, _ := demo.FindUser("rita")
	return mint(rita.Identity)
}
