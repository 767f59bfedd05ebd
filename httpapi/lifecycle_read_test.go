package httpapi_test

import (
	"slices"
	"testing"

	"cpor/demo"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// Reading over real HTTP: who the viewer is, and any object by its global ID
// (node, nodes) as far as the caller may see it.

func TestViewerOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		const q = `{ viewer { userId name email roles organization { id name mpns { mpnId enrolled } } customerTenant { tenantId displayName } } }`
		type viewer struct {
			UserID, Name, Email string
			Roles               []string
			Organization        *struct {
				ID, Name string
				Mpns     []struct {
					MpnID    string
					Enrolled bool
				}
			}
			CustomerTenant *struct{ TenantID, DisplayName string }
		}
		v := run[viewer](t, srv.Client(t, "ada"), q, nil, "viewer")
		if v.UserID != "ada@contoso.example" || v.Name != "Ada Lovelace" || !slices.Equal(v.Roles, []string{"GLOBAL_ADMIN"}) ||
			v.Organization == nil || v.Organization.Name != "Contoso Partners" || len(v.Organization.Mpns) != 3 || v.CustomerTenant != nil {
			t.Errorf("ada's viewer: %+v", v)
		}
		v = run[viewer](t, srv.Client(t, "rita"), q, nil, "viewer")
		if v.UserID != "rita@microsoft.example" || !slices.Equal(v.Roles, []string{"REVIEWER"}) || v.Organization != nil || v.CustomerTenant != nil {
			t.Errorf("rita's viewer: %+v", v)
		}
		v = run[viewer](t, srv.Client(t, "chloe"), q, nil, "viewer")
		if v.CustomerTenant == nil || v.CustomerTenant.TenantID != demo.Northwind.String() || v.Organization != nil {
			t.Errorf("chloe's viewer: %+v", v)
		}
		v = run[viewer](t, srv.Client(t, "carl"), q, nil, "viewer")
		if v.UserID != "carl@contoso.example" || v.Organization != nil {
			t.Errorf("carl's viewer: %+v", v)
		}
	})
}

func TestNodeRoundTripOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		ids := formData(t, ada)
		c := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		doc := attach(t, ada, c.ID, "proof.pdf", testkit.PDF).ProofOfExecution
		cm := mutate(t, ada, addCommentMutation, map[string]any{"claimId": c.ID, "body": "Hello reviewers"}, "addComment").Comment
		if doc == nil || cm == nil {
			t.Fatal("attach or comment failed")
		}
		hist := readClaim(t, ada, c.ID).History.Nodes

		const q = `query($id: ID!) { node(id: $id) { __typename id
		  ... on Claim { status customerDomain }
		  ... on Comment { body kind }
		  ... on ProofOfExecution { fileName sha256 }
		  ... on ClaimEvent { type }
		  ... on Mpn { mpnId }
		  ... on Product { code } } }`
		type node struct {
			Typename               string `json:"__typename"`
			ID                     string
			Status, CustomerDomain string
			Body, Kind             string
			FileName, Sha256       string
			Type, MpnID, Code      string
		}
		for _, who := range []*apitest.Client{ada, rita} {
			n := run[*node](t, who, q, map[string]any{"id": c.ID}, "node")
			if n == nil || n.Typename != "Claim" || n.ID != c.ID || n.Status != "DRAFT" || n.CustomerDomain != woodgroveDomain {
				t.Errorf("node(claim): %+v", n)
			}
			n = run[*node](t, who, q, map[string]any{"id": cm.ID}, "node")
			if n == nil || n.Typename != "Comment" || n.ID != cm.ID || n.Body != "Hello reviewers" || n.Kind != "PARTNER" {
				t.Errorf("node(comment): %+v", n)
			}
			n = run[*node](t, who, q, map[string]any{"id": doc.ID}, "node")
			if n == nil || n.Typename != "ProofOfExecution" || n.ID != doc.ID || n.FileName != "proof.pdf" || n.Sha256 != sha(testkit.PDF) {
				t.Errorf("node(document): %+v", n)
			}
			n = run[*node](t, who, q, map[string]any{"id": hist[0].ID}, "node")
			if n == nil || n.Typename != "ClaimEvent" || n.ID != hist[0].ID || n.Type != "CREATED" {
				t.Errorf("node(claim event): %+v", n)
			}
		}
		n := run[*node](t, ada, q, map[string]any{"id": ids.enrolledMpn}, "node")
		if n == nil || n.Typename != "Mpn" || n.ID != ids.enrolledMpn {
			t.Errorf("node(mpn): %+v", n)
		}
		n = run[*node](t, ada, q, map[string]any{"id": ids.salesProduct}, "node")
		if n == nil || n.Typename != "Product" || n.Code != "D365_SALES" {
			t.Errorf("node(product): %+v", n)
		}

		// nodes(ids) keeps the order, with null for what the caller may not see.
		type typed struct {
			Typename string `json:"__typename"`
			ID       string
		}
		list := run[[]*typed](t, ada, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
			map[string]any{"ids": []string{doc.ID, c.ID, cm.ID}}, "nodes")
		if len(list) != 3 || list[0] == nil || list[0].ID != doc.ID || list[1] == nil || list[1].ID != c.ID || list[2] == nil || list[2].ID != cm.ID {
			t.Errorf("nodes: %+v", list)
		}
		list = run[[]*typed](t, srv.Client(t, "fiona"), `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
			map[string]any{"ids": []string{doc.ID, c.ID, cm.ID}}, "nodes")
		if len(list) != 3 || list[0] != nil || list[1] != nil || list[2] != nil {
			t.Errorf("nodes of another organisation: %+v", list)
		}
	})
}
