package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/catalog"
	"cpor/claims"
	"cpor/models"
	"cpor/notify"
	"cpor/scheduler"
	"cpor/storage"
	"cpor/webhooks"
	"cpor/workflow"
)

// Services are the domain services the seed works through.
type Services struct {
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	// People, when set, learns the demo users (after the demo claims, so
	// that loading the demo sends no e-mail).
	People *notify.Directory
	// Notices, when set, writes the demo's one notification that no claim
	// causes: an operator's webhook endpoint disabled after days of failures.
	Notices *notify.Recorder
}

// Seeded reports whether the demo data is already there.
func Seeded(ctx context.Context, db *gorm.DB) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Model(&models.PartnerOrganization{}).Where("id = ?", Contoso).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look for demo data: %w", err)
	}
	return n > 0, nil
}

// Seed loads the demo data once; it does nothing when it is already there.
func Seed(ctx context.Context, db *gorm.DB, svc Services) error {
	done, err := Seeded(ctx, db)
	if err != nil || done {
		return err
	}
	s := &seeder{db: db, svc: svc, products: map[string]uuid.UUID{}}
	steps := []func(context.Context) error{s.partners, s.catalogProducts, s.tenants, s.subscriptions, s.claims, s.people, s.disabledHook}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	return nil
}

type seeder struct {
	db       *gorm.DB
	svc      Services
	products map[string]uuid.UUID
}

// people makes the demo users known for e-mail, each with the preference
// the demo shows: Ben wants the inbox only and Fiona a daily digest.
func (s *seeder) people(ctx context.Context) error {
	if s.svc.People == nil {
		return nil
	}
	choices := map[string]models.NotificationPreference{"ben": models.PreferInAppOnly, "fiona": models.PreferDailyDigest}
	for _, u := range Users {
		pref, ok := choices[u.Handle]
		if !ok {
			pref = models.PreferEmailImmediate
		}
		_, err := s.svc.People.SetPreference(as(ctx, u.Handle), pref)
		// A user with no notification role (Carl) has no preference.
		if err != nil && !apperr.Is(err, apperr.Forbidden) {
			return fmt.Errorf("demo user %s: %w", u.Handle, err)
		}
	}
	return nil
}

// disabledHook is an operator's endpoint for every claim that failed for
// days and was disabled, so that Oscar's inbox has what operators are told.
func (s *seeder) disabledHook(ctx context.Context) error {
	if s.svc.Notices == nil {
		return nil
	}
	now := storage.Now()
	since := now.Add(-6 * 24 * time.Hour)
	e := models.WebhookEndpoint{
		ID: uuid.MustParse("5eb0c0de-0000-4000-8000-000000000001"), URL: "https://hooks.fabrikam-erp.example/cpor",
		Description: "Reporting feed (retired)", EventTypes: ",CLAIM_APPROVED,CLAIM_REJECTED,", Secret: "whsec_ZGVtbw==",
		CreatedBy: "oscar@microsoft.example", CreatedAt: since, UpdatedAt: now, FailingSince: &since,
		DisabledAt: &now, DisabledReason: "no delivery succeeded since " + since.Format(time.RFC3339),
	}
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		if err := tx.Create(&e).Error; err != nil {
			return fmt.Errorf("demo webhook endpoint: %w", err)
		}
		return s.svc.Notices.Write(tx, webhooks.DisabledNotice(&e, now))
	})
}

func as(ctx context.Context, handle string) context.Context {
	u, ok := FindUser(handle)
	if !ok {
		panic("demo: no user " + handle)
	}
	id := u.Identity
	return auth.WithIdentity(ctx, &id)
}

func (s *seeder) partners(ctx context.Context) error {
	now := storage.Now()
	enrolled := now.AddDate(0, -6, 0)
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		orgs := []models.PartnerOrganization{
			{ID: Contoso, Name: "Contoso Partners", CreatedAt: now},
			{ID: Fabrikam, Name: "Fabrikam Solutions", CreatedAt: now},
		}
		mpns := []models.Mpn{
			{ID: uuid.New(), OrganizationID: Contoso, PartnerLocationID: 4000001, Name: "Contoso Partners", Location: "Redmond, US",
				EnrolledAt: &enrolled, EnrolledBy: "ada@contoso.example", CreatedAt: now},
			{ID: uuid.New(), OrganizationID: Contoso, PartnerLocationID: 4000002, Name: "Contoso Partners Ireland", Location: "Dublin, IE", CreatedAt: now},
			{ID: uuid.New(), OrganizationID: Contoso, PartnerLocationID: 4000003, Name: "Contoso Partners APAC", Location: "Singapore, SG",
				PartnerType: "FRP FastTrack", EnrolledAt: &enrolled, EnrolledBy: "ada@contoso.example", CreatedAt: now},
			{ID: uuid.New(), OrganizationID: Fabrikam, PartnerLocationID: 5000001, Name: "Fabrikam Solutions", Location: "Toronto, CA",
				EnrolledAt: &enrolled, EnrolledBy: "fiona@fabrikam.example", CreatedAt: now},
		}
		if err := tx.Create(&orgs).Error; err != nil {
			return err
		}
		return tx.Create(&mpns).Error
	})
}

func (s *seeder) catalogProducts(ctx context.Context) error {
	ctx = as(ctx, "oscar")
	list := []catalog.ProductInput{
		{Code: "D365_SALES", Name: "Dynamics 365 Sales", SolutionArea: models.BusinessApplications, Kind: models.KindProduct, Dynamics: true},
		{Code: "D365_CUSTOMER_SERVICE", Name: "Dynamics 365 Customer Service", SolutionArea: models.BusinessApplications, Kind: models.KindProduct, Dynamics: true},
		{Code: "D365_FIELD_SERVICE", Name: "Dynamics 365 Field Service", SolutionArea: models.BusinessApplications, Kind: models.KindProduct, Dynamics: true},
		{Code: "D365_FINANCE", Name: "Dynamics 365 Finance", SolutionArea: models.BusinessApplications, Kind: models.KindProduct, Dynamics: true},
		{Code: "D365_BUSINESS_CENTRAL", Name: "Dynamics 365 Business Central", SolutionArea: models.BusinessApplications, Kind: models.KindProduct, Dynamics: true},
		{Code: "M365_E3", Name: "Microsoft 365 E3", SolutionArea: models.Microsoft365, Kind: models.KindProduct},
		{Code: "TEAMS", Name: "Microsoft Teams", SolutionArea: models.Microsoft365, Kind: models.KindWorkload},
		{Code: "EXCHANGE", Name: "Exchange Online", SolutionArea: models.Microsoft365, Kind: models.KindWorkload},
		{Code: "SHAREPOINT", Name: "SharePoint Online", SolutionArea: models.Microsoft365, Kind: models.KindWorkload},
		{Code: "ONEDRIVE", Name: "OneDrive for Business", SolutionArea: models.Microsoft365, Kind: models.KindWorkload},
	}
	for _, p := range list {
		saved, err := s.svc.Catalog.UpsertProduct(ctx, p)
		if err != nil {
			return err
		}
		s.products[p.Code] = saved.ID
	}
	return nil
}

func (s *seeder) tenants(ctx context.Context) error {
	ctx = as(ctx, "oscar")
	w := func(codes ...string) []uuid.UUID {
		out := []uuid.UUID{}
		for _, c := range codes {
			out = append(out, s.products[c])
		}
		return out
	}
	list := []catalog.TenantInput{
		{TenantID: Northwind, DisplayName: "Northwind Traders", Domains: []string{"northwind.onmicrosoft.com", "northwindtraders.com"}, WorkloadIDs: w("TEAMS", "EXCHANGE")},
		{TenantID: Tailspin, DisplayName: "Tailspin Toys", Domains: []string{"tailspin.onmicrosoft.com", "tailspintoys.com"}, WorkloadIDs: w("TEAMS")},
		{TenantID: Wingtip, DisplayName: "Wingtip Toys", Domains: []string{"wingtip.onmicrosoft.com", "wingtiptoys.com"}, WorkloadIDs: w()},
		{TenantID: AdventureWorks, DisplayName: "Adventure Works Cycles", Domains: []string{"adventureworks.onmicrosoft.com", "adventure-works.com"}, WorkloadIDs: w("EXCHANGE")},
		{TenantID: Litware, DisplayName: "Litware Inc.", Domains: []string{"litware.onmicrosoft.com", "litwareinc.com"}, WorkloadIDs: w("SHAREPOINT", "ONEDRIVE")},
		{TenantID: Woodgrove, DisplayName: "Woodgrove Bank", Domains: []string{"woodgrove.onmicrosoft.com", "woodgrovebank.com"}, WorkloadIDs: w("TEAMS", "EXCHANGE", "SHAREPOINT")},
	}
	for _, t := range list {
		if _, err := s.svc.Catalog.UpsertTenant(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) subscriptions(ctx context.Context) error {
	ctx = as(ctx, "oscar")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ended := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	order := OrderOfSubActive
	type sub = catalog.SubscriptionInput
	list := []sub{
		{ID: SubActive, TenantID: Northwind, ProductID: s.products["D365_SALES"], OrderID: &order, Channel: models.WebDirect,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: SubInGrace, TenantID: Northwind, ProductID: s.products["D365_CUSTOMER_SERVICE"], Channel: models.VolumeLicensing,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionInGrace, StartsAt: start},
		{ID: SubExpired, TenantID: Northwind, ProductID: s.products["D365_FIELD_SERVICE"], Channel: models.VolumeLicensing,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionExpired, StartsAt: start, EndsAt: &ended},
		{ID: SubNotProvisioned, TenantID: Northwind, ProductID: s.products["D365_FINANCE"], Channel: models.WebDirect,
			ProvisioningState: models.ProvisioningPending, Status: models.SubscriptionActive, StartsAt: start},
		{ID: SubCSP, TenantID: Northwind, ProductID: s.products["D365_BUSINESS_CENTRAL"], Channel: models.CSP,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: SubNotDynamics, TenantID: Northwind, ProductID: s.products["M365_E3"], Channel: models.WebDirect,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: uuid.MustParse("5a1e0000-0000-4000-8000-000000000011"), TenantID: Tailspin, ProductID: s.products["D365_SALES"],
			Channel: models.VolumeLicensing, ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: uuid.MustParse("5a1e0000-0000-4000-8000-000000000021"), TenantID: Wingtip, ProductID: s.products["D365_CUSTOMER_SERVICE"],
			Channel: models.WebDirect, ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: uuid.MustParse("5a1e0000-0000-4000-8000-000000000031"), TenantID: AdventureWorks, ProductID: s.products["D365_FINANCE"],
			Channel: models.VolumeLicensing, ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
		{ID: uuid.MustParse("5a1e0000-0000-4000-8000-000000000041"), TenantID: Woodgrove, ProductID: s.products["D365_SALES"],
			Channel: models.WebDirect, ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: start},
	}
	for _, in := range list {
		if _, err := s.svc.Catalog.UpsertSubscription(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// SamplePDF is a minimal valid PDF, the proof of execution the demo claims
// carry; tests and benchmarks attach it too.
var SamplePDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

type claimSpec struct {
	by       string
	area     models.SolutionArea
	activity models.Activity
	tenant   uuid.UUID
	domain   string
	product  string
	sub      string
	mpn      int64
}

func (s *seeder) draft(ctx context.Context, c claimSpec) (*models.Claim, error) {
	ctx = as(ctx, c.by)
	var mpn models.Mpn
	if err := s.db.WithContext(ctx).Where("partner_location_id = ?", c.mpn).Take(&mpn).Error; err != nil {
		return nil, err
	}
	tenant, product := c.tenant.String(), s.products[c.product]
	in := claims.DraftInput{
		SolutionArea: &c.area, Activity: &c.activity, CustomerTenantID: &tenant, CustomerDomain: &c.domain,
		ProductID: &product, MpnID: &mpn.ID,
		CustomerContact: &claims.ContactInput{Name: "Dana Customer", Title: "CIO", Email: "dana@" + c.domain},
		PartnerContact:  &claims.ContactInput{Name: "Sam Partner", Email: "sam@partner.example"},
	}
	if c.sub != "" {
		in.SubscriptionID = &c.sub
	}
	return s.svc.Claims.Create(ctx, in)
}

func (s *seeder) submitted(ctx context.Context, c claimSpec) (*models.Claim, error) {
	draft, err := s.draft(ctx, c)
	if err != nil {
		return nil, err
	}
	pctx := as(ctx, c.by)
	if _, err := s.svc.Claims.Attach(pctx, draft.ID, claims.Upload{FileName: "workshop-summary.pdf", Content: bytes.NewReader(SamplePDF)}); err != nil {
		return nil, err
	}
	return s.svc.Workflow.Submit(pctx, workflow.Request{ClaimID: draft.ID})
}

func (s *seeder) claims(ctx context.Context) error {
	rita := as(ctx, "rita")
	ba, m365 := models.BusinessApplications, models.Microsoft365

	// DRAFT
	if _, err := s.draft(ctx, claimSpec{"ada", ba, models.Usage, Wingtip, "wingtiptoys.com", "D365_CUSTOMER_SERVICE",
		"5a1e0000-0000-4000-8000-000000000021", 4000001}); err != nil {
		return err
	}
	// SUBMITTED, and past its review deadline
	late, err := s.submitted(ctx, claimSpec{"ben", ba, models.Usage, AdventureWorks, "adventure-works.com", "D365_FINANCE",
		"5a1e0000-0000-4000-8000-000000000031", 4000003})
	if err != nil {
		return err
	}
	if err := s.backdate(ctx, late.ID, 10); err != nil {
		return err
	}
	// UNDER_REVIEW, after an information request that the partner answered
	m, err := s.submitted(ctx, claimSpec{"ada", m365, models.Usage, Litware, "litwareinc.com", "SHAREPOINT", "", 4000001})
	if err != nil {
		return err
	}
	if err := s.askInformation(rita, m.ID, "Please attach the SharePoint adoption report for the last quarter."); err != nil {
		return err
	}
	if _, err := s.svc.Workflow.Respond(as(ctx, "ada"), workflow.Request{ClaimID: m.ID,
		Reason: "The adoption report for the last quarter is attached."}); err != nil {
		return err
	}
	// ACTION_REQUIRED: the reviewer waits for the partner's answer
	waiting, err := s.submitted(ctx, claimSpec{"ada", m365, models.Usage, Litware, "litware.onmicrosoft.com", "ONEDRIVE", "", 4000001})
	if err != nil {
		return err
	}
	if err := s.askInformation(rita, waiting.ID, "Which OneDrive rollout milestones did your team deliver? Attach the project plan."); err != nil {
		return err
	}
	// WITHDRAWN by the partner
	gone, err := s.submitted(ctx, claimSpec{"fiona", m365, models.Usage, Woodgrove, "woodgrovebank.com", "TEAMS", "", 5000001})
	if err != nil {
		return err
	}
	if _, err := s.svc.Workflow.Withdraw(as(ctx, "fiona"), workflow.Request{ClaimID: gone.ID,
		Reason: "Claimed under the wrong workload; we will claim Exchange instead."}); err != nil {
		return err
	}
	// EXPIRED: a draft nobody touched for longer than drafts live
	if err := s.expiredDraft(ctx, claimSpec{"ben", m365, models.Usage, AdventureWorks, "adventure-works.com", "EXCHANGE", "", 4000003}); err != nil {
		return err
	}
	// ARBITRATION: two organisations claim the same subscription
	tailspinSub := "5a1e0000-0000-4000-8000-000000000011"
	a, err := s.submitted(ctx, claimSpec{"ada", ba, models.Presales, Tailspin, "tailspintoys.com", "D365_SALES", tailspinSub, 4000001})
	if err != nil {
		return err
	}
	b, err := s.submitted(ctx, claimSpec{"fiona", ba, models.Presales, Tailspin, "tailspin.onmicrosoft.com", "D365_SALES", tailspinSub, 5000001})
	if err != nil {
		return err
	}
	for _, id := range []uuid.UUID{a.ID, b.ID} {
		if _, err := s.svc.Workflow.StartReview(rita, workflow.Request{ClaimID: id}); err != nil {
			return err
		}
	}
	// APPROVED, with an active association on Northwind
	ok, err := s.submitted(ctx, claimSpec{"ada", ba, models.Presales, Northwind, "northwindtraders.com", "D365_SALES", SubActive.String(), 4000001})
	if err != nil {
		return err
	}
	if _, err := s.svc.Workflow.StartReview(rita, workflow.Request{ClaimID: ok.ID}); err != nil {
		return err
	}
	if _, err := s.svc.Workflow.Approve(rita, workflow.Request{ClaimID: ok.ID, Reason: "Proof of the pre-sales workshop accepted."}); err != nil {
		return err
	}
	// REJECTED
	no, err := s.submitted(ctx, claimSpec{"fiona", ba, models.RevenueAssociation, Northwind, "northwind.onmicrosoft.com",
		"D365_CUSTOMER_SERVICE", SubInGrace.String(), 5000001})
	if err != nil {
		return err
	}
	if _, err := s.svc.Workflow.Reject(rita, workflow.Request{ClaimID: no.ID,
		Reason: "The proof of execution predates the subscription; reclaim with current proof."}); err != nil {
		return err
	}
	// REJECTED by the customer (after the reviewer's rejection above, which tests
	// take as the organisation's first rejected claim): Northwind's admin refuses a request
	refused, err := s.submitted(ctx, claimSpec{"fiona", m365, models.Usage, Northwind, "northwindtraders.com", "TEAMS", "", 5000001})
	if err != nil {
		return err
	}
	if _, err := s.svc.Workflow.CustomerDecline(as(ctx, "chloe"), workflow.Request{ClaimID: refused.ID,
		Reason: "Fabrikam did not work on our Teams rollout."}); err != nil {
		return err
	}
	return nil
}

func (s *seeder) askInformation(rita context.Context, id uuid.UUID, question string) error {
	if _, err := s.svc.Workflow.StartReview(rita, workflow.Request{ClaimID: id}); err != nil {
		return err
	}
	_, err := s.svc.Workflow.RequestInformation(rita, workflow.Request{ClaimID: id, Reason: question})
	return err
}

// expiredDraft saves a draft, dates its last change back past a draft's
// lifetime, and runs its expiry as the scheduler would.
func (s *seeder) expiredDraft(ctx context.Context, c claimSpec) error {
	d, err := s.draft(ctx, c)
	if err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Model(&models.Claim{}).Where("id = ?", d.ID).
		Update("updated_at", storage.Now().AddDate(0, 0, -45)).Error; err != nil {
		return err
	}
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		_, err := s.svc.Workflow.DueWork()[workflow.JobExpire](ctx, tx,
			scheduler.Job{Kind: workflow.JobExpire, Subject: d.ID}, storage.Now())
		return err
	})
}

// backdate moves a submitted claim's submission into the past so the demo
// shows an overdue claim, keeping the deadline consistent with it.
func (s *seeder) backdate(ctx context.Context, id uuid.UUID, days int) error {
	submitted := storage.Now().AddDate(0, 0, -days)
	due := s.svc.Claims.Calendar().ReviewDue(submitted)
	res := s.db.WithContext(ctx).Model(&models.Claim{}).Where("id = ?", id).
		Updates(map[string]any{"submitted_at": submitted, "review_due_at": due})
	if res.Error == nil && res.RowsAffected != 1 {
		return errors.New("backdate: claim not found")
	}
	return res.Error
}
