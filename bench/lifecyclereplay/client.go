package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"cpor/demo"
	"cpor/testkit"
)

// client speaks GraphQL over HTTP as one signed-in user.
type client struct {
	http  *http.Client
	url   string
	token string
}

type claimView struct {
	ID          string
	Status      string
	Version     int
	Association *struct{ Active bool }
}

type payload struct {
	Claim      *claimView
	UserErrors []struct{ Code, Message string }
}

// do sends an operation (with a file for the variable fileVar when content
// is not nil) and returns the payload of the top-level field.
func (c *client) do(op, field string, vars map[string]any, fileVar string, content []byte) (*claimView, error) {
	req, err := c.request(op, vars, fileVar, content)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   map[string]payload
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %s", field, resp.StatusCode, raw)
	}
	p, ok := out.Data[field]
	if len(out.Errors) > 0 || !ok || len(p.UserErrors) > 0 || p.Claim == nil {
		return nil, fmt.Errorf("%s: HTTP %d: %s", field, resp.StatusCode, raw)
	}
	return p.Claim, nil
}

func (c *client) request(op string, vars map[string]any, fileVar string, content []byte) (*http.Request, error) {
	var (
		body        bytes.Buffer
		contentType = "application/json"
	)
	if content == nil {
		if err := json.NewEncoder(&body).Encode(map[string]any{"query": op, "variables": vars}); err != nil {
			return nil, err
		}
	} else {
		vars[fileVar] = nil
		ops, err := json.Marshal(map[string]any{"query": op, "variables": vars})
		if err != nil {
			return nil, err
		}
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("operations", string(ops))
		_ = mw.WriteField("map", `{"0":["variables.`+fileVar+`"]}`)
		fw, err := mw.CreateFormFile("0", "proof.pdf")
		if err != nil {
			return nil, err
		}
		_, _ = fw.Write(content)
		_ = mw.Close()
		contentType = mw.FormDataContentType()
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/graphql", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+c.token)
	return req, nil
}

// target is a fresh customer tenant with a claimable subscription.
type target struct{ tenant, subscription, domain string }

// lifecycle runs one claim's lifecycle: the partner creates, attaches and
// submits; the reviewer starts the review and approves.
func lifecycle(partner, reviewer *client, productID, mpnID string, t target) (claimID string, err error) {
	c, err := partner.do(testkit.LifecycleCreate, "createClaim", map[string]any{"input": map[string]any{
		"solutionArea": "BUSINESS_APPLICATIONS", "activity": "USAGE",
		"customerTenantId": t.tenant, "customerDomain": t.domain, "subscriptionId": t.subscription,
		"productId": productID, "mpnId": mpnID,
		"customerContact": map[string]any{"name": "Dana Whitfield", "title": "CIO", "email": "dana@" + t.domain},
		"partnerContact":  map[string]any{"name": "Sam Partner", "email": "sam@contoso.example"},
	}}, "", nil)
	if err != nil {
		return "", err
	}
	att, err := partner.do(testkit.LifecycleAttach, "attachProofOfExecution", map[string]any{"claimId": c.ID}, "file", demo.SamplePDF)
	if err != nil {
		return c.ID, err
	}
	steps := []struct {
		who       *client
		op, field string
		extra     map[string]any
	}{
		{partner, testkit.LifecycleSubmit, "submitClaim", nil},
		{reviewer, testkit.LifecycleStartReview, "startReview", nil},
		{reviewer, testkit.LifecycleApprove, "approveClaim", map[string]any{"note": "replay"}},
	}
	version := att.Version
	for _, s := range steps {
		in := map[string]any{"claimId": c.ID, "expectedVersion": version}
		for k, v := range s.extra {
			in[k] = v
		}
		got, err := s.who.do(s.op, s.field, map[string]any{"input": in}, "", nil)
		if err != nil {
			return c.ID, err
		}
		version = got.Version
	}
	return c.ID, nil
}
