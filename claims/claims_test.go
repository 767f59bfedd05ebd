package claims_test

// The claims domain service on both databases: drafts (create, update,
// reclaim), proof-of-execution documents, comments, reading and listing
// with authorisation, and the immutability of the claim history.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/demo"
	"cpor/events"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/workflow"
)

// TestCreateDraft: a valid form is saved as a normalised draft with its
// CREATED event; a refused one saves nothing.
func TestCreateDraft(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		c := k.create("ada", k.woodgrove())
		stored := k.claim(c.ID)
		switch {
		case stored.Status != models.Draft || stored.Version != 1 || stored.OrganizationID != demo.Contoso || stored.CreatedBy != "ada@contoso.example":
			t.Errorf("draft: %s v%d of %s by %s", stored.Status, stored.Version, stored.OrganizationID, stored.CreatedBy)
		case stored.CustomerTenantID != demo.Woodgrove || stored.CustomerDomain != "woodgrovebank.com":
			t.Errorf("tenant and domain not normalised: %s %q", stored.CustomerTenantID, stored.CustomerDomain)
		case stored.SubscriptionID == nil || stored.SubscriptionID.String() != "5a1e0000-0000-4000-8000-000000000041":
			t.Errorf("subscription: %v", stored.SubscriptionID)
		case stored.CustomerContact != models.CustomerContact{Name: "Dana Customer", Title: "CIO", Email: "Dana@woodgrovebank.com"}:
			t.Errorf("customer contact: %+v", stored.CustomerContact)
		case stored.Notes != "Ran the pre-sales workshop.":
			t.Errorf("notes: %q", stored.Notes)
		case stored.SubmittedAt != nil || stored.ReviewDueAt != nil || stored.DecidedAt != nil:
			t.Errorf("a draft has submission or decision times")
		}
		evs := k.events(c.ID)
		if len(evs) != 1 || evs[0].Type != models.EventCreated || evs[0].ActorID != "ada@contoso.example" || evs[0].Version != 1 {
			t.Errorf("draft history: %+v", evs)
		}
		// A partial draft is fine; the checks run on what it states.
		partial := claims.DraftInput{SolutionArea: p(models.Microsoft365), Activity: p(models.Usage),
			CustomerTenantID: p(demo.Woodgrove.String()), CustomerDomain: p("woodgrove.onmicrosoft.com")}
		if _, err := k.w.Claims.Create(testkit.As("ben"), partial); err != nil {
			t.Errorf("partial draft: %v", err)
		}
		// Several malformed fields are reported together; nothing is saved.
		before := k.count(&models.Claim{}, "")
		bad := k.woodgrove()
		bad.CustomerDomain, bad.SubscriptionID = p("not a domain"), p("12345")
		bad.CustomerContact = &claims.ContactInput{Name: "Dana", Email: "dana@"}
		bad.PartnerContact = &claims.ContactInput{Name: strings.Repeat("x", 201), Email: "sam@contoso.example"}
		_, err := k.w.Claims.Create(testkit.As("ada"), bad)
		for _, want := range []struct {
			code  apperr.Code
			field string
		}{
			{apperr.InvalidInput, "customerDomain"}, {apperr.InvalidSubscriptionID, "subscriptionId"},
			{apperr.InvalidInput, "customerContact.email"}, {apperr.InvalidInput, "partnerContact.name"},
		} {
			wantCode(t, err, want.code, want.field)
		}
		// Missing required fields, all at once.
		_, err = k.w.Claims.Create(testkit.As("ada"), claims.DraftInput{})
		for _, f := range []string{"solutionArea", "activity", "customerTenantId", "customerDomain"} {
			wantCode(t, err, apperr.InvalidInput, f)
		}
		if n := k.count(&models.Claim{}, ""); n != before {
			t.Errorf("refused drafts saved claims: %d before, %d after", before, n)
		}
	})
}

// TestUpdateDraft: an update bumps the version and writes UPDATED; nil
// fields stay, an empty subscription clears it; a refused update, a stale
// one or one of a non-draft changes nothing.
func TestUpdateDraft(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		ada := testkit.As("ada")
		c := k.create("ada", k.woodgrove())
		up, err := k.w.Claims.Update(ada, c.ID, p(1), claims.DraftInput{Activity: p(models.Presales), Notes: p("Workshop and pilot.")})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if up.Version != 2 || up.Activity != models.Presales || up.Notes != "Workshop and pilot." || up.CustomerDomain != "woodgrovebank.com" {
			t.Errorf("updated draft: %+v", up)
		}
		evs := k.events(c.ID)
		if last := evs[len(evs)-1]; last.Type != models.EventUpdated || last.Version != 2 {
			t.Errorf("last event after update: %+v", last)
		}
		// Clearing the subscription.
		up, err = k.w.Claims.Update(ada, c.ID, nil, claims.DraftInput{SubscriptionID: p("")})
		if err != nil || up.SubscriptionID != nil || up.Version != 3 {
			t.Fatalf("clear subscription: %+v, %v", up, err)
		}
		if k.claim(c.ID).SubscriptionID != nil {
			t.Errorf("cleared subscription is still stored")
		}

		refusals := []struct {
			name    string
			handle  string
			version *int
			in      claims.DraftInput
			code    apperr.Code
			field   string
		}{
			{"domain of another tenant", "ada", nil, claims.DraftInput{CustomerDomain: p("northwindtraders.com")}, apperr.DomainTenantMismatch, "customerDomain"},
			{"unenrolled MPN", "ada", nil, claims.DraftInput{MpnID: k.mpn(4000002)}, apperr.MpnNotEnrolled, "mpnId"},
			{"bad e-mail", "ada", nil, claims.DraftInput{PartnerContact: &claims.ContactInput{Name: "Sam", Email: "sam at contoso"}},
				apperr.InvalidInput, "partnerContact.email"},
			{"stale version", "ada", p(2), claims.DraftInput{Notes: p("x")}, apperr.StaleClaim, "expectedVersion"},
			{"another organisation", "fiona", nil, claims.DraftInput{Notes: p("x")}, apperr.NotFound, "claimId"},
			{"partner user without admin role", "carl", nil, claims.DraftInput{Notes: p("x")}, apperr.Forbidden, ""},
			{"reviewer", "rita", nil, claims.DraftInput{Notes: p("x")}, apperr.Forbidden, ""},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				k := k.at(t)
				before, evBefore := k.row(c.ID), len(k.events(c.ID))
				_, err := k.w.Claims.Update(testkit.As(r.handle), c.ID, r.version, r.in)
				wantCode(t, err, r.code, r.field)
				if after := k.row(c.ID); after != before {
					t.Errorf("refused update changed the claim:\n%s\n%s", before, after)
				}
				if n := len(k.events(c.ID)); n != evBefore {
					t.Errorf("refused update wrote events")
				}
			})
		}
		// Only drafts are edited.
		sub := k.demoClaim(demo.Contoso, models.Submitted)
		before := k.row(sub.ID)
		_, err = k.w.Claims.Update(ada, sub.ID, nil, claims.DraftInput{Notes: p("late change")})
		wantCode(t, err, apperr.InvalidTransition, "claimId")
		if k.row(sub.ID) != before {
			t.Errorf("update of a submitted claim changed it")
		}
	})
}

// TestReclaim: reclaim starts a linked draft with the new activity or MPN;
// the old claim is not edited and its history records the reclaim.
func TestReclaim(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		fiona := testkit.As("fiona")
		old := k.demoClaim(demo.Fabrikam, models.Rejected)
		before, evBefore := k.row(old.ID), len(k.events(old.ID))
		c, err := k.w.Claims.Reclaim(fiona, old.ID, p(models.Usage), nil)
		if err != nil {
			t.Fatalf("reclaim: %v", err)
		}
		if c.ID == old.ID || c.Status != models.Draft || c.Version != 1 || c.ReclaimedFromID == nil || *c.ReclaimedFromID != old.ID {
			t.Fatalf("reclaimed draft: %+v", c)
		}
		if c.Activity != models.Usage || *c.MpnID != *old.MpnID || *c.SubscriptionID != *old.SubscriptionID ||
			c.CustomerTenantID != old.CustomerTenantID || c.CustomerDomain != old.CustomerDomain || c.CustomerContact != old.CustomerContact ||
			c.SubmittedAt != nil || c.DecidedAt != nil || c.DecisionReason != "" {
			t.Errorf("reclaimed draft does not carry the old claim's form with the new activity: %+v", c)
		}
		if k.row(old.ID) != before {
			t.Errorf("reclaim changed the old claim")
		}
		evs := k.events(old.ID)
		if len(evs) != evBefore+1 || evs[len(evs)-1].Type != models.EventReclaimed ||
			!strings.Contains(evs[len(evs)-1].Reason, relay.UUIDGlobalID(relay.TypeClaim, c.ID)) {
			t.Errorf("old claim's history after reclaim: %+v", evs[evBefore:])
		}
		created := k.events(c.ID)
		if len(created) != 1 || created[0].Type != models.EventCreated || !strings.Contains(created[0].Reason, relay.UUIDGlobalID(relay.TypeClaim, old.ID)) {
			t.Errorf("new draft's history: %+v", created)
		}

		// Reclaim runs the draft checks: the approved claim still holds its
		// subscription and activity, and an unenrolled MPN is refused.
		approved := k.demoClaim(demo.Contoso, models.Approved)
		n := k.count(&models.Claim{}, "")
		_, err = k.w.Claims.Reclaim(testkit.As("ada"), approved.ID, nil, nil)
		wantCode(t, err, apperr.SubscriptionAlreadyClaimed, "subscriptionId")
		_, err = k.w.Claims.Reclaim(testkit.As("ada"), approved.ID, p(models.Usage), k.mpn(4000002))
		wantCode(t, err, apperr.MpnNotEnrolled, "mpnId")
		_, err = k.w.Claims.Reclaim(testkit.As("ada"), approved.ID, p(models.Usage), k.mpn(5000001))
		wantCode(t, err, apperr.MpnNotFound, "mpnId")
		if k.count(&models.Claim{}, "") != n {
			t.Errorf("refused reclaims saved claims")
		}
		// With another activity and an enrolled MPN it works.
		if _, err := k.w.Claims.Reclaim(testkit.As("ada"), approved.ID, p(models.Usage), k.mpn(4000003)); err != nil {
			t.Errorf("reclaim with another activity: %v", err)
		}
	})
}

// TestAttachProof: proof may be added to an approved claim but not to a
// rejected one; the stored document carries its checksum and bytes.
func TestAttachProof(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		ada := testkit.As("ada")
		approved := k.demoClaim(demo.Contoso, models.Approved)
		before := k.row(approved.ID)
		doc, err := k.w.Claims.Attach(ada, approved.ID, claims.Upload{FileName: `C:\Users\ada\follow-up "Q3".pdf`, Content: bytes.NewReader(testkit.PDF)})
		if err != nil {
			t.Fatalf("attach to an approved claim: %v", err)
		}
		sum := sha256.Sum256(testkit.PDF)
		if doc.ContentType != "application/pdf" || doc.SizeBytes != int64(len(testkit.PDF)) || doc.SHA256 != hex.EncodeToString(sum[:]) ||
			doc.FileName != "follow-up Q3.pdf" || doc.UploadedBy != "ada@contoso.example" {
			t.Errorf("document: %+v", doc)
		}
		if k.row(approved.ID) != before {
			t.Errorf("attaching proof changed the approved claim")
		}
		evs := k.events(approved.ID)
		if last := evs[len(evs)-1]; last.Type != models.EventDocumentAttached || last.DocumentID == nil || *last.DocumentID != doc.ID {
			t.Errorf("last event: %+v", last)
		}
		got, content, err := k.w.Claims.OpenDocument(ada, doc.ID)
		if err != nil || got.ID != doc.ID || !bytes.Equal(content, testkit.PDF) {
			t.Errorf("open document: %v", err)
		}
		if _, _, err := k.w.Claims.OpenDocument(testkit.As("rita"), doc.ID); err != nil {
			t.Errorf("reviewer cannot open the document: %v", err)
		}
		_, _, err = k.w.Claims.OpenDocument(testkit.As("fiona"), doc.ID)
		wantCode(t, err, apperr.NotFound, "id")

		// Not to a rejected claim.
		rejected := k.demoClaim(demo.Fabrikam, models.Rejected)
		docs := k.count(&models.Document{}, "")
		before = k.row(rejected.ID)
		_, err = k.w.Claims.Attach(testkit.As("fiona"), rejected.ID, claims.Upload{FileName: "late.pdf", Content: bytes.NewReader(testkit.PDF)})
		wantCode(t, err, apperr.InvalidTransition, "claimId")
		if k.count(&models.Document{}, "") != docs || k.row(rejected.ID) != before {
			t.Errorf("refused attach stored something")
		}
	})
}

// TestAttachRefusesBadUploads: empty files, files over the size limit and
// types outside the allow-list (detected from the bytes, whatever the name)
// are INVALID_INPUT and store nothing.
func TestAttachRefusesBadUploads(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		draft := k.demoClaim(demo.Contoso, models.Draft)
		overLimit := make([]byte, claims.DefaultDocumentLimits.MaxBytes+1)
		copy(overLimit, testkit.PDF)
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 112)...)
		exe[0x3c] = 0x80
		exe = append(exe, []byte("PE\x00\x00\x4c\x01\x03\x00")...)
		const badType = "cannot be attached"
		uploads := []struct {
			name, file string
			content    []byte
			says       string // what the message explains
		}{
			{"empty", "proof.pdf", nil, "empty"},
			{"over the size limit", "proof.pdf", overLimit, "larger than 10 MiB"},
			{"Windows executable", "proof.pdf", exe, badType},
			{"ELF executable", "proof", append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...), badType},
			{"HTML page", "proof.pdf", []byte("<!DOCTYPE html><html><head><script>alert(1)</script></head><body>proof</body></html>"), "text/html"},
			{"HTML fragment", "proof.docx", []byte("<html><body onload=\"x()\">hi</body></html>"), "text/html"},
			{"SVG image", "proof.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), badType},
			{"shell script", "proof.txt", []byte("#!/bin/sh\nrm -rf /\n"), badType},
			{"zip archive", "proof.zip", append([]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"), make([]byte, 40)...), badType},
		}
		ada := testkit.As("ada")
		for _, u := range uploads {
			t.Run(u.name, func(t *testing.T) {
				k := k.at(t)
				docs, contents, evs := k.count(&models.Document{}, ""), k.count(&models.DocumentContent{}, ""), k.count(&models.ClaimEvent{}, "")
				_, err := k.w.Claims.Attach(ada, draft.ID, claims.Upload{FileName: u.file, Content: bytes.NewReader(u.content)})
				wantCode(t, err, apperr.InvalidInput, "file")
				if !strings.Contains(err.Error(), u.says) {
					t.Errorf("refusal %q does not say %q", err, u.says)
				}
				if k.count(&models.Document{}, "") != docs || k.count(&models.DocumentContent{}, "") != contents || k.count(&models.ClaimEvent{}, "") != evs {
					t.Errorf("refused upload stored something")
				}
			})
		}
		// Allowed types are detected from the bytes.
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
		for _, ok := range []struct {
			file, want string
			content    []byte
		}{
			{"scan.bin", "image/png", png},
			{"notes", "text/plain", []byte("Met the customer's CIO on 3 March.\n")},
		} {
			d, err := k.w.Claims.Attach(ada, draft.ID, claims.Upload{FileName: ok.file, Content: bytes.NewReader(ok.content)})
			if err != nil || d.ContentType != ok.want {
				t.Errorf("attach %s: %+v, %v; want %s", ok.file, d, err, ok.want)
			}
		}

		// The limits of a service configured smaller: exactly at the size
		// limit is accepted, one byte more is not; the per-claim count holds.
		small := claims.NewService(k.w.DB, events.NewLog(nil), k.w.Calendar, claims.DocumentLimits{
			MaxBytes: 1024, MaxPerClaim: 1, ContentTypes: claims.DefaultDocumentLimits.ContentTypes,
		})
		fresh := k.create("ada", claims.DraftInput{SolutionArea: p(models.BusinessApplications), Activity: p(models.Usage),
			CustomerTenantID: p(demo.Woodgrove.String()), CustomerDomain: p("woodgrovebank.com")})
		at := bytes.Repeat([]byte("a"), 1024)
		_, err := small.Attach(ada, fresh.ID, claims.Upload{FileName: "big.txt", Content: bytes.NewReader(append(at, 'a'))})
		wantCode(t, err, apperr.InvalidInput, "file")
		if _, err := small.Attach(ada, fresh.ID, claims.Upload{FileName: "fits.txt", Content: bytes.NewReader(at)}); err != nil {
			t.Errorf("upload at the size limit: %v", err)
		}
		_, err = small.Attach(ada, fresh.ID, claims.Upload{FileName: "more.txt", Content: bytes.NewReader([]byte("more"))})
		wantCode(t, err, apperr.InvalidInput, "file")
		if n := k.count(&models.Document{}, "claim_id = ?", fresh.ID); n != 1 {
			t.Errorf("claim holds %d documents; want 1", n)
		}
	})
}

// TestComments: the organisation's admins and reviewers comment; the kind
// follows the author; others cannot.
func TestComments(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		c := k.demoClaim(demo.Contoso, models.UnderReview)
		cm, err := k.w.Claims.AddComment(testkit.As("ben"), c.ID, "  Here is the adoption report.  ")
		if err != nil || cm.Kind != models.CommentPartner || cm.Body != "Here is the adoption report." || cm.AuthorID != "ben@contoso.example" {
			t.Fatalf("partner comment: %+v, %v", cm, err)
		}
		rc, err := k.w.Claims.AddComment(testkit.As("rita"), c.ID, "Thanks.")
		if err != nil || rc.Kind != models.CommentReviewer {
			t.Fatalf("reviewer comment: %+v, %v", rc, err)
		}
		evs := k.events(c.ID)
		if last := evs[len(evs)-1]; last.Type != models.EventCommentAdded || last.CommentID == nil || *last.CommentID != rc.ID || last.ActorKind != models.ActorReviewer {
			t.Errorf("last event: %+v", last)
		}
		if k.claim(c.ID).Version != c.Version {
			t.Errorf("a comment changed the claim's version")
		}
		n := k.count(&models.Comment{}, "claim_id = ?", c.ID)
		for _, r := range []struct {
			handle, body string
			code         apperr.Code
			field        string
		}{
			{"fiona", "Mine.", apperr.NotFound, "claimId"},
			{"carl", "Hi.", apperr.Forbidden, ""},
			{"chloe", "Hi.", apperr.Forbidden, ""},
			{"ada", "", apperr.InvalidInput, "body"},
			{"ada", strings.Repeat("x", 10001), apperr.InvalidInput, "body"},
			{"ada", "bad \xff utf-8", apperr.InvalidInput, "body"},
		} {
			_, err := k.w.Claims.AddComment(testkit.As(r.handle), c.ID, r.body)
			wantCode(t, err, r.code, r.field)
		}
		_, err = k.w.Claims.AddComment(context.Background(), c.ID, "Hi.")
		wantCode(t, err, apperr.Unauthenticated, "")
		if k.count(&models.Comment{}, "claim_id = ?", c.ID) != n {
			t.Errorf("refused comments were stored")
		}
		// Comments are read through the claim by those who may read it.
		if _, err := k.w.Claims.Comment(testkit.As("fiona"), cm.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another organisation reads the comment: %v", err)
		}
		if got, err := k.w.Claims.Comment(testkit.As("ada"), cm.ID); err != nil || got.Body != cm.Body {
			t.Errorf("own organisation's comment: %v", err)
		}
	})
}

// TestGetAndList: a partner admin sees its organisation's claims only,
// another organisation's claim is NOT_FOUND, a reviewer sees all; people
// without a claims role see none.
func TestGetAndList(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		total := k.count(&models.Claim{}, "")
		for _, who := range []struct {
			handle string
			org    *uuid.UUID
		}{{"ada", &demo.Contoso}, {"ben", &demo.Contoso}, {"fiona", &demo.Fabrikam}, {"rita", nil}} {
			conn, err := k.w.Claims.List(testkit.As(who.handle), claims.Filter{}, claims.Order{}, relay.Args{First: p(100)})
			if err != nil {
				t.Fatalf("list as %s: %v", who.handle, err)
			}
			want := total
			if who.org != nil {
				want = k.count(&models.Claim{}, "organization_id = ?", *who.org)
			}
			if got, _ := conn.TotalCount(); int64(got) != want || int64(len(conn.Items)) != want {
				t.Errorf("%s lists %d claims (total %d); want %d", who.handle, len(conn.Items), got, want)
			}
			for _, c := range conn.Items {
				if who.org != nil && c.OrganizationID != *who.org {
					t.Errorf("%s sees claim %s of %s", who.handle, c.ID, c.OrganizationID)
				}
			}
		}
		for _, h := range []string{"carl", "oscar"} {
			_, err := k.w.Claims.List(testkit.As(h), claims.Filter{}, claims.Order{}, relay.Args{})
			wantCode(t, err, apperr.Forbidden, "")
		}
		// Filters: status, and the overdue demo claim.
		conn, err := k.w.Claims.List(testkit.As("rita"), claims.Filter{Statuses: []models.ClaimStatus{models.Arbitration}}, claims.Order{}, relay.Args{})
		if err != nil || len(conn.Items) != 2 {
			t.Errorf("claims in arbitration: %v", err)
		}
		overdue := true
		conn, err = k.w.Claims.List(testkit.As("rita"), claims.Filter{Overdue: &overdue}, claims.Order{}, relay.Args{})
		if err != nil || len(conn.Items) != 1 || conn.Items[0].Status != models.Submitted {
			t.Errorf("overdue claims: %v", err)
		}
		_, err = k.w.Claims.List(testkit.As("rita"), claims.Filter{Statuses: []models.ClaimStatus{"LOST"}}, claims.Order{}, relay.Args{})
		wantCode(t, err, apperr.InvalidInput, "filter.status")

		mine := k.demoClaim(demo.Contoso, models.Approved)
		if c, err := k.w.Claims.Get(testkit.As("ben"), mine.ID); err != nil || c.ID != mine.ID {
			t.Errorf("own organisation's claim: %v", err)
		}
		if _, err := k.w.Claims.Get(testkit.As("rita"), mine.ID); err != nil {
			t.Errorf("reviewer: %v", err)
		}
		_, err = k.w.Claims.Get(testkit.As("fiona"), mine.ID)
		wantCode(t, err, apperr.NotFound, "claimId")
		_, err = k.w.Claims.Get(testkit.As("fiona"), uuid.New())
		wantCode(t, err, apperr.NotFound, "claimId")
		// Another organisation's history, comments and documents are not
		// reachable through the claim either.
		if err := claims.RequireReadable(testkit.As("fiona"), &mine); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another organisation reads the claim's child lists: %v", err)
		}
		if err := claims.RequireReadable(testkit.As("ben"), &mine); err != nil {
			t.Errorf("own organisation's child lists: %v", err)
		}
	})
}

// TestClaimEventsAreImmutable: the database refuses to change or delete a
// claim event, whoever asks.
func TestClaimEventsAreImmutable(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		// A transition's events are there to protect.
		c := k.demoClaim(demo.Contoso, models.Submitted)
		if _, err := k.w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: c.ID}); err != nil {
			t.Fatal(err)
		}
		before := k.events(c.ID)
		total := k.count(&models.ClaimEvent{}, "")
		attempts := []struct {
			name string
			run  func() error
		}{
			{"update one", func() error {
				return k.w.DB.Exec("UPDATE claim_events SET reason = 'tampered' WHERE seq = ?", before[0].Seq).Error
			}},
			{"update the actor", func() error {
				return k.w.DB.Model(&models.ClaimEvent{}).Where("claim_id = ?", c.ID).Update("actor_id", "mallory").Error
			}},
			{"update all", func() error { return k.w.DB.Exec("UPDATE claim_events SET version = version + 1").Error }},
			{"delete one", func() error { return k.w.DB.Exec("DELETE FROM claim_events WHERE seq = ?", before[0].Seq).Error }},
			{"delete the claim's", func() error { return k.w.DB.Where("claim_id = ?", c.ID).Delete(&models.ClaimEvent{}).Error }},
		}
		for _, a := range attempts {
			if err := a.run(); err == nil || !strings.Contains(err.Error(), "immutable") {
				t.Errorf("%s: %v; want the trigger's refusal", a.name, err)
			}
		}
		after := k.events(c.ID)
		b1, _ := json.Marshal(before)
		b2, _ := json.Marshal(after)
		if string(b1) != string(b2) || k.count(&models.ClaimEvent{}, "") != total {
			t.Errorf("claim events changed:\n%s\n%s", b1, b2)
		}
	})
}
