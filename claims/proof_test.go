package claims_test

// The proof-of-execution day: attaching with and without one, and the
// recency rule at submit (POE_TOO_OLD), on both databases; the rule's
// calendar boundaries as a pure function.

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/models"
	"cpor/testkit"
	"cpor/workflow"
)

func day(s string) models.Date {
	d, err := models.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestProofRecency(t *testing.T) {
	at := func(s string) time.Time { return day(s).Time().Add(15 * time.Hour) }
	for _, c := range []struct {
		name   string
		newest string
		now    string
		months int
		tooOld bool
	}{
		{"yesterday", "2026-11-24", "2026-11-25", 12, false},
		{"exactly 12 months", "2025-11-25", "2026-11-25", 12, false},
		{"12 months and a day", "2025-11-24", "2026-11-25", 12, true},
		{"13 months", "2025-10-25", "2026-11-25", 12, true},
		{"leap day, 12 months back to 28 February", "2023-02-28", "2024-02-29", 12, false},
		{"leap day, a day more", "2023-02-27", "2024-02-29", 12, true},
		{"from a leap day to the day after a year", "2024-02-29", "2025-02-28", 12, false},
		{"12 months before 1 March is 1 March, not the leap day", "2024-02-29", "2025-03-01", 12, true},
		{"month end: 31 March, one month back is 28 February", "2026-02-28", "2026-03-31", 1, false},
		{"month end: a day before", "2026-02-27", "2026-03-31", 1, true},
		{"month end: 31 May, 3 months back is 28 February", "2026-02-28", "2026-05-31", 3, false},
		{"across a year", "2025-12-31", "2026-01-31", 1, false},
		{"across a year, a day more", "2025-12-30", "2026-01-31", 1, true},
		{"six months configured", "2026-05-24", "2026-11-25", 6, true},
		{"proof dated today", "2026-11-25", "2026-11-25", 12, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := claims.ProofRecency(day(c.newest), at(c.now), c.months)
			if (err != nil) != c.tooOld {
				t.Fatalf("ProofRecency(%s, %s, %d) = %v; want too old %v", c.newest, c.now, c.months, err, c.tooOld)
			}
			if err != nil && (err.Code != apperr.ProofOfExecutionTooOld || err.Field != "proofOfExecution" || err.Message == "") {
				t.Errorf("error: %+v", err)
			}
		})
	}
}

func TestAttachExecutedOn(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		draft := k.create("ada", k.woodgrove())
		today := models.DateOf(time.Now())
		for _, c := range []struct {
			name  string
			given *models.Date
			want  models.Date
			bad   bool
		}{
			{"omitted is the upload day", nil, today, false},
			{"today", &today, today, false},
			{"in the past", p(day("2024-02-29")), day("2024-02-29"), false},
			{"tomorrow", p(models.NewDate(today.Time().Year(), today.Time().Month(), today.Time().Day()+1)), models.Date{}, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				docs := k.count(&models.Document{}, "claim_id = ?", draft.ID)
				doc, err := k.w.Claims.Attach(testkit.As("ada"), draft.ID, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(testkit.PDF), ExecutedOn: c.given})
				if c.bad {
					wantCode(t, err, apperr.InvalidInput, "executedOn")
					if k.count(&models.Document{}, "claim_id = ?", draft.ID) != docs {
						t.Errorf("a refused document was stored")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var stored models.Document
				if err := k.w.DB.Where("id = ?", doc.ID).Take(&stored).Error; err != nil {
					t.Fatal(err)
				}
				if doc.ExecutedOn != c.want || stored.ExecutedOn != c.want {
					t.Errorf("executedOn returned %s, stored %s; want %s", doc.ExecutedOn, stored.ExecutedOn, c.want)
				}
			})
		}
	})
}

// TestSubmitNeedsRecentProof: the newest proof decides, read as the claim
// is locked for submit.
func TestSubmitNeedsRecentProof(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		now := time.Now().UTC()
		old := models.DateOf(now.AddDate(0, -13, 0))
		recent := models.DateOf(now.AddDate(0, -2, 0))
		for _, c := range []struct {
			name   string
			proofs []models.Date
			tooOld bool
		}{
			{"only proof 13 months old", []models.Date{old}, true},
			{"one old, one recent", []models.Date{old, recent}, false},
			{"recent, then old attached later", []models.Date{recent, old}, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				id := k.freshDraft(t, c.name)
				for _, d := range c.proofs {
					if _, err := k.w.Claims.Attach(testkit.As("ada"), id, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(testkit.PDF), ExecutedOn: &d}); err != nil {
						t.Fatal(err)
					}
				}
				before := k.row(id)
				_, err := k.w.Workflow.Submit(testkit.As("ada"), workflow.Request{ClaimID: id})
				if !c.tooOld {
					if err != nil {
						t.Fatalf("submit: %v", err)
					}
					return
				}
				wantCode(t, err, apperr.ProofOfExecutionTooOld, "proofOfExecution")
				if k.row(id) != before {
					t.Errorf("a refused submit changed the claim")
				}
			})
		}
	})
}

// freshDraft is a complete draft of Contoso on a new tenant, without proof.
func (k kit) freshDraft(t *testing.T, name string) uuid.UUID {
	t.Helper()
	tenant, sub := testkit.FreshTarget(t, k.w, "poe-"+uuid.NewString()[:8])
	in := k.woodgrove()
	in.CustomerTenantID, in.SubscriptionID = p(tenant.String()), p(sub.String())
	var domain models.TenantDomain
	if err := k.w.DB.Where("tenant_id = ?", tenant).Take(&domain).Error; err != nil {
		t.Fatal(err)
	}
	in.CustomerDomain = p(domain.Domain)
	in.CustomerContact.Email = "dana@" + domain.Domain
	return k.at(t).create("ada", in).ID
}
