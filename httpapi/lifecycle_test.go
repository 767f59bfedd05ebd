package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// This file drives the claim lifecycle over real HTTP, as the partner portal
// and the reviewer console do, on both databases. Its helpers, shared by the
// other end-to-end files of the package, are in fixture_test.go.

func TestLifecycleOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "fiona")
		ids := formData(t, ada)

		// The partner saves a draft.
		p := mutate(t, ada, createClaimMutation, map[string]any{"input": claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)}, "createClaim")
		c := p.ok(t)
		if deref(p.ClientMutationID) != "create-1" {
			t.Errorf("clientMutationId = %v", deref(p.ClientMutationID))
		}
		if c.Status != "DRAFT" || c.Version != 1 || c.CustomerTenantID != woodgroveTenant || c.CustomerDomain != woodgroveDomain ||
			deref(c.SubscriptionID) != woodgroveSub || c.Product == nil || c.Product.Code != "D365_SALES" ||
			c.Mpn == nil || c.Mpn.ID != ids.enrolledMpn || c.Organization.Name != "Contoso Partners" ||
			c.CustomerContact.Email != "dana@woodgrovebank.com" || c.SubmittedAt != nil || c.ReviewDueAt != nil {
			t.Fatalf("draft as saved: %+v", c)
		}
		if !slices.Equal(c.AvailableActions, []string{"SUBMIT"}) {
			t.Errorf("draft availableActions = %v", c.AvailableActions)
		}

		// Submitting without proof is refused and changes nothing.
		before := takeSnapshot(t, w)
		p = fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID})
		wantUserError(t, p.UserErrors, "PROOF_OF_EXECUTION_REQUIRED")
		unchanged(t, w, before, "submit without proof")

		// Proof of execution, through the GraphQL multipart request.
		p = attach(t, ada, c.ID, "Woodgrove workshop.pdf", testkit.PDF)
		if len(p.UserErrors) > 0 || p.ProofOfExecution == nil {
			t.Fatalf("attach: %+v", p)
		}
		doc := *p.ProofOfExecution
		if doc.FileName != "Woodgrove workshop.pdf" || doc.ContentType != "application/pdf" || doc.SizeBytes != len(testkit.PDF) ||
			doc.Sha256 != sha(testkit.PDF) || doc.UploadedBy != "ada@contoso.example" || !strings.HasPrefix(doc.DownloadURL, "/documents/") {
			t.Fatalf("attached document: %+v", doc)
		}
		if p.Claim == nil || p.Claim.ID != c.ID {
			t.Fatalf("attach payload claim: %+v", p.Claim)
		}

		// Submit, with the version the client read.
		draft := readClaim(t, ada, c.ID)
		p = fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID, "expectedVersion": draft.Version})
		c = p.ok(t)
		if c.Status != "SUBMITTED" || c.Version <= draft.Version || c.SubmittedAt == nil || c.ReviewDueAt == nil || c.Overdue {
			t.Fatalf("submitted claim: %+v", c)
		}
		if want := w.Calendar.ReviewDue(*c.SubmittedAt); !c.ReviewDueAt.Equal(want.Truncate(time.Second)) && !c.ReviewDueAt.Equal(want) {
			t.Errorf("reviewDueAt = %s, want submission plus five business days = %s", c.ReviewDueAt, want)
		}
		if c.ReviewDueAt.Sub(*c.SubmittedAt) < 7*24*time.Hour-time.Second {
			t.Errorf("reviewDueAt %s is less than a week (five business days) after %s", c.ReviewDueAt, c.SubmittedAt)
		}
		if len(c.AvailableActions) != 0 {
			t.Errorf("partner availableActions on a submitted claim = %v", c.AvailableActions)
		}
		if got := readClaim(t, rita, c.ID); !slices.Equal(got.AvailableActions, []string{"START_REVIEW", "REJECT"}) {
			t.Errorf("reviewer availableActions on a submitted claim = %v", got.AvailableActions)
		}
		// The customer is told of the association request.
		if got := readClaim(t, ada, c.ID); !slices.ContainsFunc(got.History.Nodes, func(e historyEvent) bool { return e.Type == "CUSTOMER_NOTIFIED" }) {
			t.Errorf("no CUSTOMER_NOTIFIED event after submit: %+v", got.History.Nodes)
		}

		// The reviewer takes it into review and asks for more information.
		c = fire(t, rita, startReviewMutation, "startReview", map[string]any{"claimId": c.ID, "expectedVersion": c.Version}).ok(t)
		if c.Status != "UNDER_REVIEW" {
			t.Fatalf("after startReview: %s", c.Status)
		}
		const question = "Please attach the signed workshop attendance list."
		c = fire(t, rita, requestInfoMutation, "requestInformation", map[string]any{"claimId": c.ID, "message": question}).ok(t)
		if c.Status != "UNDER_REVIEW" {
			t.Fatalf("requestInformation moved the claim to %s", c.Status)
		}
		partnerView := readClaim(t, ada, c.ID)
		i := slices.IndexFunc(partnerView.Comments.Nodes, func(cm comment) bool { return cm.Kind == "INFORMATION_REQUEST" })
		if i < 0 {
			t.Fatalf("no INFORMATION_REQUEST comment in %+v", partnerView.Comments.Nodes)
		}
		if got := partnerView.Comments.Nodes[i]; got.Body != question || got.Author.Kind != "REVIEWER" || got.Author.Name != "Rita Reviewer" {
			t.Errorf("information request as the partner sees it: %+v", got)
		}

		// The partner answers in the thread.
		const answer = "Attendance list attached: 14 Woodgrove sellers."
		p = mutate(t, ada, addCommentMutation, map[string]any{"claimId": c.ID, "body": answer}, "addComment")
		if len(p.UserErrors) > 0 || p.Comment == nil || p.Comment.Kind != "PARTNER" || p.Comment.Body != answer || p.Comment.Author.ID != "ada@contoso.example" {
			t.Fatalf("addComment: %+v", p)
		}
		answerID := p.Comment.ID
		thread := readClaim(t, rita, c.ID).Comments.Nodes
		if n := len(thread); n < 2 || thread[n-1].ID != answerID || thread[i].Kind != "INFORMATION_REQUEST" {
			t.Errorf("thread as the reviewer sees it (oldest first): %+v", thread)
		}

		// A stale approval is refused; the right version approves.
		current := readClaim(t, rita, c.ID)
		before = takeSnapshot(t, w)
		p = fire(t, rita, approveMutation, "approveClaim", map[string]any{"claimId": c.ID, "expectedVersion": current.Version - 1, "note": "stale"})
		wantUserError(t, p.UserErrors, "STALE_CLAIM")
		unchanged(t, w, before, "stale approval")
		c = fire(t, rita, approveMutation, "approveClaim", map[string]any{"claimId": c.ID, "expectedVersion": current.Version, "note": "Workshops and attendance verified."}).ok(t)
		if c.Status != "APPROVED" || c.DecidedAt == nil || deref(c.DecisionReason) != "Workshops and attendance verified." || c.Version <= current.Version {
			t.Fatalf("approved claim: %+v", c)
		}

		// The partner sees the approval and the association.
		final := readClaim(t, ada, c.ID)
		if final.Status != "APPROVED" || final.Association == nil || !final.Association.Active || final.Association.EndedAt != nil ||
			deref(final.Association.SubscriptionID) != woodgroveSub || final.Association.CustomerTenantID != woodgroveTenant || final.Association.Activity != "USAGE" {
			t.Fatalf("approved claim as the partner sees it: %+v", final)
		}
		if deref(final.SubscriptionID) != woodgroveSub {
			t.Errorf("an approved claim shows its subscription ID; got %v", final.SubscriptionID)
		}
		if len(final.AvailableActions) != 0 {
			t.Errorf("availableActions on an approved claim = %v", final.AvailableActions)
		}

		// The history has every status change, in order, with its actor.
		want := []string{
			"submit:DRAFT->SUBMITTED by ada@contoso.example/PARTNER",
			"startReview:SUBMITTED->UNDER_REVIEW by rita@microsoft.example/REVIEWER",
			"approve:UNDER_REVIEW->APPROVED by rita@microsoft.example/REVIEWER",
		}
		hist := final.History.Nodes
		var transitions []string
		for _, s := range statusChanges(hist) {
			if !strings.HasPrefix(s, "requestInformation:") {
				transitions = append(transitions, s)
			}
		}
		if !slices.Equal(transitions, want) {
			t.Errorf("status changes:\n got %q\nwant %q", transitions, want)
		}
		if final.History.TotalCount != len(hist) || len(hist) == 0 || hist[0].Type != "CREATED" || hist[0].Actor.ID != "ada@contoso.example" {
			t.Errorf("history does not start with the creation: %+v", hist)
		}
		for k := 1; k < len(hist); k++ {
			if hist[k].Version < hist[k-1].Version || hist[k].Sequence == hist[k-1].Sequence {
				t.Errorf("history out of order at %d: %+v then %+v", k, hist[k-1], hist[k])
			}
		}
		if hist[len(hist)-1].Version != final.Version {
			t.Errorf("last history entry at version %d, claim at %d", hist[len(hist)-1].Version, final.Version)
		}
		var sawDoc, sawComment bool
		for _, e := range hist {
			sawDoc = sawDoc || (e.Type == "DOCUMENT_ATTACHED" && e.ProofOfExecution != nil && e.ProofOfExecution.ID == doc.ID)
			sawComment = sawComment || (e.Type == "COMMENT_ADDED" && e.Comment != nil && e.Comment.ID == answerID)
			if e.Type == "STATUS_CHANGED" && strings.HasPrefix(deref(e.Event), "approve") && deref(e.Reason) != "Workshops and attendance verified." {
				t.Errorf("approval event reason = %q", deref(e.Reason))
			}
		}
		if !sawDoc || !sawComment {
			t.Errorf("history lacks the attachment (%v) or the partner's comment (%v): %+v", sawDoc, sawComment, hist)
		}

		// The proof downloads for the partner and the reviewer, as an attachment.
		if final.ProofOfExecution.TotalCount != 1 || final.ProofOfExecution.Nodes[0].ID != doc.ID {
			t.Fatalf("proofOfExecution: %+v", final.ProofOfExecution)
		}
		for _, who := range []*apitest.Client{ada, rita} {
			resp, body := download(t, who, final.ProofOfExecution.Nodes[0].DownloadURL)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("download: HTTP %d %s", resp.StatusCode, body)
			}
			if string(body) != string(testkit.PDF) || sha(body) != doc.Sha256 {
				t.Errorf("downloaded content differs (sha256 %s, want %s)", sha(body), doc.Sha256)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
				t.Errorf("Content-Type = %q", ct)
			}
			disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != "Woodgrove workshop.pdf" {
				t.Errorf("Content-Disposition = %q", resp.Header.Get("Content-Disposition"))
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("download without nosniff")
			}
			if !strings.Contains(resp.Header.Get("Digest")+resp.Header.Get("ETag"), doc.Sha256) {
				t.Errorf("download does not carry the checksum: Digest %q ETag %q", resp.Header.Get("Digest"), resp.Header.Get("ETag"))
			}
		}
		// Not for another organisation, nor without a token.
		if resp, body := download(t, fiona, doc.DownloadURL); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another organisation's download: HTTP %d %s", resp.StatusCode, body)
		}
		if resp, body := download(t, srv.Client(t, ""), doc.DownloadURL); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous download: HTTP %d %s", resp.StatusCode, body)
		}

		// Proof may still be added after approval.
		if p := attach(t, ada, c.ID, "follow-up.pdf", testkit.PDF); len(p.UserErrors) > 0 {
			t.Errorf("attach after approval: %+v", p.UserErrors)
		}

		// The same organisation cannot claim the same subscription and activity again.
		p = mutate(t, ada, createClaimMutation, map[string]any{"input": claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)}, "createClaim")
		wantUserError(t, p.UserErrors, "SUBSCRIPTION_ALREADY_CLAIMED")
	})
}

func TestRejectPathOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		ids := formData(t, ada)
		c := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		if p := attach(t, ada, c.ID, "proof.pdf", testkit.PDF); len(p.UserErrors) > 0 {
			t.Fatalf("attach: %+v", p.UserErrors)
		}
		c = fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID}).ok(t)

		// A rejection needs a reason.
		before := takeSnapshot(t, w)
		p := fire(t, rita, rejectMutation, "rejectClaim", map[string]any{"claimId": c.ID, "reason": "   "})
		wantUserError(t, p.UserErrors, "INVALID_INPUT")
		unchanged(t, w, before, "rejection without a reason")

		const reason = "The proof does not show usage of Dynamics 365 Sales; reclaim with usage reports."
		c = fire(t, rita, rejectMutation, "rejectClaim", map[string]any{"claimId": c.ID, "expectedVersion": c.Version, "reason": reason}).ok(t)
		if c.Status != "REJECTED" || c.DecidedAt == nil {
			t.Fatalf("rejected claim: %+v", c)
		}

		// The partner sees why, and can do nothing more with it.
		got := readClaim(t, ada, c.ID)
		if got.Status != "REJECTED" || deref(got.DecisionReason) != reason || got.Association != nil {
			t.Fatalf("rejected claim as the partner sees it: %+v", got)
		}
		if len(got.AvailableActions) != 0 {
			t.Errorf("partner availableActions on a rejected claim = %v", got.AvailableActions)
		}
		if acts := readClaim(t, rita, c.ID).AvailableActions; len(acts) != 0 {
			t.Errorf("reviewer availableActions on a rejected claim = %v", acts)
		}
		changes := statusChanges(got.History.Nodes)
		if len(changes) == 0 || changes[len(changes)-1] != "reject:SUBMITTED->REJECTED by rita@microsoft.example/REVIEWER" {
			t.Errorf("history status changes: %q", changes)
		}
		var rejectReason string
		for _, e := range got.History.Nodes {
			if deref(e.Event) == "reject" {
				rejectReason = deref(e.Reason)
			}
		}
		if rejectReason != reason {
			t.Errorf("the reject event's reason = %q", rejectReason)
		}

		// No more transitions or proof on a rejected claim.
		before = takeSnapshot(t, w)
		wantUserError(t, fire(t, rita, approveMutation, "approveClaim", map[string]any{"claimId": c.ID}).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID}).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, attach(t, ada, c.ID, "late.pdf", testkit.PDF).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, mutate(t, ada, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": c.ID, "notes": "edit"}}, "updateClaim").UserErrors, "INVALID_TRANSITION")
		unchanged(t, w, before, "changes to a rejected claim")

		// The partner starts again with a reclaim, linked to the old claim.
		nc := fire(t, ada, reclaimMutation, "reclaim", map[string]any{"claimId": c.ID, "activity": "PRESALES"}).ok(t)
		if nc.ID == c.ID || nc.Status != "DRAFT" || nc.Activity != "PRESALES" || nc.ReclaimedFrom == nil || nc.ReclaimedFrom.ID != c.ID ||
			deref(nc.SubscriptionID) != woodgroveSub || nc.CustomerDomain != woodgroveDomain {
			t.Fatalf("reclaimed draft: %+v", nc)
		}
		if old := readClaim(t, ada, c.ID); old.Status != "REJECTED" || !slices.ContainsFunc(old.History.Nodes, func(e historyEvent) bool { return e.Type == "RECLAIMED" }) {
			t.Errorf("the old claim after a reclaim: %s %+v", old.Status, old.History.Nodes)
		}
	})
}

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

func TestClaimsConnectionPagingAndFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "fiona")
		// A few more drafts, so that paging has pages.
		ids := formData(t, ada)
		for i := range 3 {
			tenant, sub := testkit.FreshTarget(t, w, fmt.Sprintf("paging%d", i))
			createDraft(t, ada, claimInput(ids, tenant.String(), fmt.Sprintf("paging%d.onmicrosoft.com", i), sub.String()))
		}

		var contosoTotal, allTotal int64
		w.DB.Model(&models.Claim{}).Where("organization_id = ?", demo.Contoso).Count(&contosoTotal)
		w.DB.Model(&models.Claim{}).Count(&allTotal)

		all := claimsOf(t, ada, map[string]any{"first": 100})
		if all.TotalCount != int(contosoTotal) || len(all.Nodes) != int(contosoTotal) || all.PageInfo.HasNextPage || all.PageInfo.HasPreviousPage {
			t.Fatalf("ada's claims: totalCount %d, %d nodes, want %d: %+v", all.TotalCount, len(all.Nodes), contosoTotal, all.PageInfo)
		}
		for k, n := range all.Nodes {
			if n.Organization.Name != "Contoso Partners" {
				t.Errorf("ada sees a claim of %s", n.Organization.Name)
			}
			if all.Edges[k].Node.ID != n.ID {
				t.Errorf("edges and nodes differ at %d", k)
			}
			if k > 0 && n.CreatedAt > all.Nodes[k-1].CreatedAt {
				t.Errorf("claims not newest first at %d: %s after %s", k, n.CreatedAt, all.Nodes[k-1].CreatedAt)
			}
		}
		order := make([]string, len(all.Nodes))
		for k, n := range all.Nodes {
			order[k] = n.ID
		}

		// Forward, two at a time.
		var forward []string
		var after any
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("forward paging does not end")
			}
			p := claimsOf(t, ada, map[string]any{"first": 2, "after": after})
			if p.TotalCount != int(contosoTotal) {
				t.Errorf("totalCount on a page = %d, want %d", p.TotalCount, contosoTotal)
			}
			if pages == 0 && p.PageInfo.HasPreviousPage {
				t.Error("the first page has a previous page")
			}
			if len(p.Edges) == 0 || len(p.Edges) > 2 {
				t.Fatalf("page of %d edges", len(p.Edges))
			}
			if *p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
				t.Errorf("start/end cursors do not match the edges: %+v", p.PageInfo)
			}
			for _, e := range p.Edges {
				forward = append(forward, e.Node.ID)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		if !slices.Equal(forward, order) {
			t.Errorf("forward paging:\n got %v\nwant %v", forward, order)
		}

		// Backward, two at a time, from the end.
		var backward []string
		var before any
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("backward paging does not end")
			}
			p := claimsOf(t, ada, map[string]any{"last": 2, "before": before})
			if pages == 0 && p.PageInfo.HasNextPage {
				t.Error("the last page has a next page")
			}
			if len(p.Edges) == 0 || len(p.Edges) > 2 {
				t.Fatalf("page of %d edges", len(p.Edges))
			}
			page := make([]string, len(p.Edges))
			for k, e := range p.Edges {
				page[k] = e.Node.ID
			}
			backward = append(page, backward...)
			if !p.PageInfo.HasPreviousPage {
				break
			}
			before = *p.PageInfo.StartCursor
		}
		if !slices.Equal(backward, order) {
			t.Errorf("backward paging:\n got %v\nwant %v", backward, order)
		}

		// A page in the middle, both ways.
		mid := claimsOf(t, ada, map[string]any{"first": 2, "after": all.Edges[1].Cursor})
		if len(mid.Nodes) != 2 || mid.Nodes[0].ID != order[2] || !mid.PageInfo.HasPreviousPage || !mid.PageInfo.HasNextPage {
			t.Errorf("page after the second claim: %+v", mid)
		}
		mid = claimsOf(t, ada, map[string]any{"last": 2, "before": all.Edges[3].Cursor})
		if len(mid.Nodes) != 2 || mid.Nodes[0].ID != order[1] || mid.Nodes[1].ID != order[2] || !mid.PageInfo.HasPreviousPage || !mid.PageInfo.HasNextPage {
			t.Errorf("page before the fourth claim: %+v", mid)
		}
		// first: 0 gives the count alone; a bad cursor or too large a page is refused.
		if p := claimsOf(t, ada, map[string]any{"first": 0}); len(p.Nodes) != 0 || p.TotalCount != int(contosoTotal) {
			t.Errorf("first: 0 gave %d nodes, totalCount %d", len(p.Nodes), p.TotalCount)
		}
		wantGQLError(t, ada.Do(t, claimsPageQuery, map[string]any{"first": 2, "after": "not-a-cursor"}), "INVALID_INPUT")
		wantGQLError(t, ada.Do(t, claimsPageQuery, map[string]any{"first": 101}), "INVALID_INPUT")

		// The reviewer sees every claim.
		if p := claimsOf(t, rita, map[string]any{"first": 1}); p.TotalCount != int(allTotal) {
			t.Errorf("rita's totalCount = %d, want %d", p.TotalCount, allTotal)
		}

		// Filter by status.
		var submitted int64
		w.DB.Model(&models.Claim{}).Where("status = ?", models.Submitted).Count(&submitted)
		p := claimsOf(t, rita, map[string]any{"filter": map[string]any{"status": []string{"SUBMITTED"}}, "first": 100})
		if p.TotalCount != int(submitted) || len(p.Nodes) != int(submitted) || submitted == 0 {
			t.Errorf("SUBMITTED filter: %d of %d", p.TotalCount, submitted)
		}
		for _, n := range p.Nodes {
			if n.Status != "SUBMITTED" {
				t.Errorf("SUBMITTED filter returned %s", n.Status)
			}
		}
		p = claimsOf(t, ada, map[string]any{"filter": map[string]any{"status": []string{"DRAFT", "APPROVED"}}, "first": 100})
		for _, n := range p.Nodes {
			if n.Status != "DRAFT" && n.Status != "APPROVED" {
				t.Errorf("DRAFT, APPROVED filter returned %s", n.Status)
			}
		}
		if p.TotalCount != 5 { // the demo draft, the demo approval and three drafts above
			t.Errorf("ada's DRAFT and APPROVED claims: %d", p.TotalCount)
		}

		// Overdue: the demo data has one overdue SUBMITTED claim, Contoso's.
		for _, tc := range []struct {
			who  *apitest.Client
			want int
		}{{rita, 1}, {ada, 1}, {fiona, 0}} {
			p := claimsOf(t, tc.who, map[string]any{"filter": map[string]any{"overdue": true}, "first": 100})
			if p.TotalCount != tc.want || len(p.Nodes) != tc.want {
				t.Errorf("overdue claims: %d, want %d", p.TotalCount, tc.want)
			}
			for _, n := range p.Nodes {
				if !n.Overdue || n.Status != "SUBMITTED" {
					t.Errorf("overdue filter returned %+v", n)
				}
			}
		}
		if p := claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": false}, "first": 100}); p.TotalCount != int(allTotal)-1 {
			t.Errorf("claims not overdue: %d, want %d", p.TotalCount, allTotal-1)
		}
		for _, n := range claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": false}, "first": 100}).Nodes {
			if n.Overdue {
				t.Errorf("overdue: false returned an overdue claim %s", n.ID)
			}
		}

		// Filter by customer, activity, solution area, MPN.
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"customerTenantId": demo.Tailspin.String()}, "first": 100})
		if p.TotalCount != 2 {
			t.Errorf("claims on Tailspin: %d, want the two in arbitration", p.TotalCount)
		}
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"solutionArea": "MICROSOFT_365"}, "first": 100})
		if p.TotalCount != 1 {
			t.Errorf("Microsoft 365 claims: %d, want 1", p.TotalCount)
		}
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"activity": []string{"REVENUE_ASSOCIATION"}}, "first": 100})
		if p.TotalCount != 1 || p.Nodes[0].Organization.Name != "Fabrikam Solutions" {
			t.Errorf("REVENUE_ASSOCIATION claims: %+v", p.Nodes)
		}
		var byMpn int64
		w.DB.Model(&models.Claim{}).Where("mpn_id = ?", mustParseGlobalUUID(t, ids.enrolledMpn)).Count(&byMpn)
		if p := claimsOf(t, ada, map[string]any{"filter": map[string]any{"mpnId": ids.enrolledMpn}, "first": 100}); p.TotalCount != int(byMpn) || byMpn == 0 {
			t.Errorf("claims by MPN: %d, want %d", p.TotalCount, byMpn)
		}
	})
}

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
