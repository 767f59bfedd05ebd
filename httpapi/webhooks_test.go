package httpapi_test

// Webhook endpoints over GraphQL as an integrator's admin page uses them.

import (
	"strings"
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

const registerHook = `mutation Register($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) {
  secret endpoint { id url eventTypes enabled organization { name } } userErrors { code field message } } }`

type registerPayload struct {
	Secret   *string
	Endpoint *struct {
		ID, URL      string
		EventTypes   []string
		Enabled      bool
		Organization *struct{ Name string }
	}
	UserErrors []userError
}

const deliveriesQuery = `query Deliveries($id: ID!) { webhookDeliveries(endpointId: $id, first: 10) {
  nodes { id eventType status payload attempts { statusCode latencyMs error } } pageInfo { hasNextPage } } }`

type deliveriesPage struct {
	Nodes []struct {
		ID, EventType, Status, Payload string
		Attempts                       []struct{ StatusCode *int }
	}
}

func TestWebhooksOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona, oscar, rita := srv.Client(t, "ada"), srv.Client(t, "fiona"), srv.Client(t, "oscar"), srv.Client(t, "rita")
		input := func(url string, kinds ...string) map[string]any {
			return map[string]any{"input": map[string]any{"url": url, "eventTypes": kinds, "description": "ERP sync"}}
		}
		for _, bad := range []struct{ url, code string }{
			{"https://127.0.0.1/hooks", "WEBHOOK_URL_INVALID"},
			{"https://localhost/hooks", "WEBHOOK_URL_INVALID"},
			{"ftp://hooks.example.com/", "WEBHOOK_URL_INVALID"},
		} {
			p := run[registerPayload](t, ada, registerHook, input(bad.url, "CLAIM_SUBMITTED"), "registerWebhookEndpoint")
			if len(p.UserErrors) != 1 || p.UserErrors[0].Code != bad.code || p.Endpoint != nil || p.Secret != nil {
				t.Errorf("register %s: %+v", bad.url, p)
			}
		}
		if p := run[registerPayload](t, ada, registerHook, input("https://hooks.example.com/x", "PARTNER_RESPONDED"), "registerWebhookEndpoint"); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "INVALID_INPUT" {
			t.Errorf("a kind webhooks do not receive: %+v", p)
		}
		if r := rita.Do(t, registerHook, input("https://hooks.example.com/x", "CLAIM_SUBMITTED")); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
			t.Errorf("a reviewer registers: %+v", r.Errors)
		}

		p := run[registerPayload](t, ada, registerHook, input("https://hooks.contoso.example/cpor", "CLAIM_SUBMITTED", "CLAIM_APPROVED"), "registerWebhookEndpoint")
		if len(p.UserErrors) != 0 || p.Secret == nil || !strings.HasPrefix(*p.Secret, "whsec_") || p.Endpoint == nil ||
			p.Endpoint.Organization == nil || p.Endpoint.Organization.Name == "" || !p.Endpoint.Enabled || len(p.Endpoint.EventTypes) != 2 {
			t.Fatalf("ada registers: %+v", p)
		}
		endpoint := p.Endpoint.ID
		if op := run[registerPayload](t, oscar, registerHook, input("https://hooks.microsoft.example/all", "CLAIM_SUBMITTED"), "registerWebhookEndpoint"); len(op.UserErrors) != 0 || op.Endpoint.Organization != nil {
			t.Errorf("an operator registers for every claim: %+v", op)
		}

		type listed []struct{ ID, URL string }
		if l := run[listed](t, ada, `{ webhookEndpoints { id url } }`, nil, "webhookEndpoints"); len(l) != 1 || l[0].ID != endpoint {
			t.Errorf("ada lists %+v", l)
		}
		if l := run[listed](t, fiona, `{ webhookEndpoints { id url } }`, nil, "webhookEndpoints"); len(l) != 0 {
			t.Errorf("fiona lists Contoso's endpoints: %+v", l)
		}
		if l := run[listed](t, oscar, `{ webhookEndpoints { id url } }`, nil, "webhookEndpoints"); len(l) != 3 { // the demo's disabled one too
			t.Errorf("oscar lists %+v", l)
		}

		testkit.SubmitFreshClaim(t, w, "ada", "hook-http")
		page := run[deliveriesPage](t, ada, deliveriesQuery, map[string]any{"id": endpoint}, "webhookDeliveries")
		if len(page.Nodes) != 1 || page.Nodes[0].EventType != "claim.submitted" || page.Nodes[0].Status != "PENDING" ||
			!strings.Contains(page.Nodes[0].Payload, `"type":"claim.submitted"`) {
			t.Fatalf("deliveries: %+v", page)
		}
		if r := fiona.Do(t, deliveriesQuery, map[string]any{"id": endpoint}); len(r.Errors) == 0 || r.Errors[0].Code() != "NOT_FOUND" {
			t.Errorf("fiona reads Contoso's deliveries: %+v", r.Errors)
		}
		type redelivered struct {
			Delivery   *struct{ ID, Status string }
			UserErrors []userError
		}
		redeliver := `mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { delivery { id status } userErrors { code field message } } }`
		vars := map[string]any{"input": map[string]any{"deliveryId": page.Nodes[0].ID}}
		if r := run[redelivered](t, fiona, redeliver, vars, "redeliverWebhook"); len(r.UserErrors) != 1 || r.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("fiona redelivers Contoso's delivery: %+v", r)
		}
		if r := run[redelivered](t, ada, redeliver, vars, "redeliverWebhook"); len(r.UserErrors) != 0 || r.Delivery.ID != page.Nodes[0].ID || r.Delivery.Status != "PENDING" {
			t.Errorf("ada redelivers: %+v", r)
		}

		type rotated struct {
			Secret     *string
			Endpoint   *struct{ PreviousSecretExpiresAt *string }
			UserErrors []userError
		}
		rot := run[rotated](t, ada, `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) {
		  secret endpoint { previousSecretExpiresAt } userErrors { code field message } } }`, map[string]any{"input": map[string]any{"endpointId": endpoint}}, "rotateWebhookSecret")
		if rot.Secret == nil || *rot.Secret == *p.Secret || rot.Endpoint.PreviousSecretExpiresAt == nil {
			t.Errorf("rotate: %+v", rot)
		}
		type deleted struct {
			DeletedEndpointID *string
			UserErrors        []userError
		}
		del := `mutation($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) { deletedEndpointId userErrors { code field message } } }`
		if d := run[deleted](t, fiona, del, map[string]any{"input": map[string]any{"endpointId": endpoint}}, "deleteWebhookEndpoint"); len(d.UserErrors) != 1 || d.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("fiona deletes Contoso's endpoint: %+v", d)
		}
		if d := run[deleted](t, ada, del, map[string]any{"input": map[string]any{"endpointId": endpoint}}, "deleteWebhookEndpoint"); len(d.UserErrors) != 0 || d.DeletedEndpointID == nil {
			t.Errorf("ada deletes: %+v", d)
		}
	})
}
