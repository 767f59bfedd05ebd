package httpapi_test

import (
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// This file drives the claim lifecycle over real HTTP, as the partner portal
// and the reviewer console do, on both databases, from draft to approval;
// the lifecycle_*_test.go files drive its other paths and reads. Their
// helpers, shared by the other end-to-end files of the package, are in
// fixture_test.go.

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
		if !slices.Equal(c.AvailableActions, []string{"SUBMIT", "WITHDRAW"}) {
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
		if !slices.Equal(c.AvailableActions, []string{"WITHDRAW"}) {
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
		if c.Status != "ACTION_REQUIRED" || c.ReviewDueAt != nil {
			t.Fatalf("requestInformation left the claim %s, review due %v; want ACTION_REQUIRED with the clock stopped", c.Status, c.ReviewDueAt)
		}
		if got := readClaim(t, ada, c.ID); !slices.Equal(got.AvailableActions, []string{"RESPOND", "WITHDRAW"}) {
			t.Errorf("partner availableActions on a waiting claim = %v", got.AvailableActions)
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
		// and answers the request, which takes the claim back into review
		// with the review clock running again.
		c = fire(t, ada, respondMutation, "respondToInformationRequest", map[string]any{"claimId": c.ID, "message": "See the attendance list above."}).ok(t)
		if c.Status != "UNDER_REVIEW" || c.ReviewDueAt == nil {
			t.Fatalf("after the answer: %s, review due %v", c.Status, c.ReviewDueAt)
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
			"requestInformation:UNDER_REVIEW->ACTION_REQUIRED by rita@microsoft.example/REVIEWER",
			"respond:ACTION_REQUIRED->UNDER_REVIEW by ada@contoso.example/PARTNER",
			"approve:UNDER_REVIEW->APPROVED by rita@microsoft.example/REVIEWER",
		}
		hist := final.History.Nodes
		transitions := statusChanges(hist)
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
		// Not for another organisation, nor without a token or a signed link
		// (the path without downloadUrl's query string).
		if resp, body := download(t, fiona, doc.DownloadURL); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another organisation's download: HTTP %d %s", resp.StatusCode, body)
		}
		bare, _, _ := strings.Cut(doc.DownloadURL, "?")
		if resp, body := download(t, srv.Client(t, ""), bare); resp.StatusCode != http.StatusUnauthorized {
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
