package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/catalog"
	"cpor/claims"
	"cpor/demo"
	"cpor/live"
	"cpor/models"
	"cpor/sla"
	"cpor/storage"
	"cpor/wiring"
	"cpor/workflow"
)

// benchSpace derives the data set's IDs, so that a later run finds the same
// organisations, tenants and subscriptions without bookkeeping of its own.
var benchSpace = uuid.MustParse("6a7b0c1d-0000-4000-8000-00000000a9b1")

func benchID(kind string, n int) uuid.UUID {
	return uuid.NewSHA1(benchSpace, []byte(fmt.Sprintf("%s-%d", kind, n)))
}

// dynamicsCodes are the demo catalogue's Dynamics 365 products: a tenant's
// claims are each on a different one, so no two organisations compete for
// the same customer, product and activity (which would send claims to
// arbitration instead of the status the seed wants).
var dynamicsCodes = []string{"D365_SALES", "D365_CUSTOMER_SERVICE", "D365_FIELD_SERVICE", "D365_FINANCE", "D365_BUSINESS_CENTRAL"}

const (
	organizations = 10
	markerPrefix  = "apibench data set: "
	sparePrefix   = "apibench spare customer "
)

// partner is one organisation's admin, who files its claims.
type partner struct {
	identity auth.Identity
	mpn      uuid.UUID // an enrolled MPN
}

// dataSet is what the scenarios need to know of the seeded database.
type dataSet struct {
	partners []partner
	products map[string]uuid.UUID
	claimIDs []uuid.UUID
	spares   []spare
	summary  string
	// lifecycleClaims are claims earlier lifecycle runs made: the newest,
	// so the page shows them rather than the data set's.
	lifecycleClaims int64
}

// spare is a claimable subscription nobody has claimed yet.
type spare struct {
	tenant, subscription, product uuid.UUID
	domain                        string
}

// seeder creates the data set through the domain services, as demo.Seed
// does, so every row is one the service itself would write.
type seeder struct {
	db       *gorm.DB
	svc      demo.Services
	products map[string]uuid.UUID
	reviewer auth.Identity
	workers  int
	progress atomic.Int64
}

// prepare opens the database, migrates it, loads the demo data and the
// bench's claims (unless a marker says an earlier run did), tops up the spare
// subscriptions the lifecycle scenario claims, and describes the result.
func prepare(ctx context.Context, cfg storage.Config, wantClaims, wantSpares int) (*dataSet, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer storage.Close(db)
	if err := storage.Migrate(ctx, db, log); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	calendar, err := sla.ParseHolidays("")
	if err != nil {
		return nil, err
	}
	services := wiring.New(db, live.NewHub(db, live.DefaultConfig, log), calendar, claims.DefaultDocumentLimits, workflow.Config{}, wiring.Notifications{})
	s := &seeder{db: db, products: map[string]uuid.UUID{}, workers: 1,
		svc: demo.Services{Catalog: services.Catalog, Claims: services.Claims, Workflow: services.Workflow}}
	if cfg.DatabaseURL != "" {
		// PostgreSQL takes concurrent writers; SQLite has one.
		s.workers = 6
	}
	if err := demo.Seed(ctx, db, s.svc); err != nil {
		return nil, err
	}
	rita, _ := demo.FindUser("rita")
	s.reviewer = rita.Identity
	if err := s.loadProducts(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureClaims(ctx, wantClaims); err != nil {
		return nil, err
	}
	if err := s.ensureSpares(ctx, wantSpares); err != nil {
		return nil, err
	}
	return s.describe(ctx)
}

func (s *seeder) loadProducts(ctx context.Context) error {
	var list []models.Product
	if err := s.db.WithContext(ctx).Find(&list).Error; err != nil {
		return fmt.Errorf("load products: %w", err)
	}
	for _, p := range list {
		s.products[p.Code] = p.ID
	}
	for _, code := range dynamicsCodes {
		if _, ok := s.products[code]; !ok {
			return fmt.Errorf("the demo catalogue has no %s", code)
		}
	}
	return nil
}

// marker is the tenant created last, whose name records the data set a
// finished seed made; its absence means seeding never completed.
func markerTenant() uuid.UUID { return benchID("marker", 0) }

func markerName(claims int) string {
	return fmt.Sprintf("%s%d claims, %d organisations", markerPrefix, claims, organizations)
}

func (s *seeder) ensureClaims(ctx context.Context, want int) error {
	var t models.CustomerTenant
	err := s.db.WithContext(ctx).Where("id = ?", markerTenant()).Take(&t).Error
	switch {
	case err == nil && t.DisplayName == markerName(want):
		fmt.Printf("reusing the data set already seeded (%s)\n", t.DisplayName)
		return nil
	case err == nil:
		return fmt.Errorf("the database holds another data set (%q); use a fresh database or -claims to match", t.DisplayName)
	case !storage.IsNotFound(err):
		return fmt.Errorf("look for the data set marker: %w", err)
	}
	if err := s.organizations(ctx); err != nil {
		return err
	}
	var have int64
	if err := s.db.WithContext(ctx).Model(&models.Claim{}).Count(&have).Error; err != nil {
		return fmt.Errorf("count claims: %w", err)
	}
	start := time.Now()
	if err := s.claims(ctx, int(have), want); err != nil {
		return err
	}
	fmt.Printf("seeded %d claims in %s\n", want-int(have), time.Since(start).Round(time.Second))
	return s.upsertTenant(ctx, markerTenant(), markerName(want), "apibench-marker")
}

// organizations adds the bench's partner organisations beside the demo's two,
// each with an enrolled MPN, as demo.Seed adds its own (no service creates
// organisations: they come from partner onboarding).
func (s *seeder) organizations(ctx context.Context) error {
	now := storage.Now()
	enrolled := now.AddDate(-1, 0, 0)
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		for i := 2; i < organizations; i++ {
			id := benchID("org", i)
			var n int64
			if err := tx.Model(&models.PartnerOrganization{}).Where("id = ?", id).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			org := models.PartnerOrganization{ID: id, Name: fmt.Sprintf("Partner %d Consulting", i), CreatedAt: now}
			mpn := models.Mpn{ID: benchID("mpn", i), OrganizationID: id, PartnerLocationID: int64(6000000 + i),
				Name: org.Name, Location: "Seattle, US", EnrolledAt: &enrolled, EnrolledBy: benchAdmin(i).UserID, CreatedAt: now}
			if err := tx.Create(&org).Error; err != nil {
				return fmt.Errorf("create organisation: %w", err)
			}
			if err := tx.Create(&mpn).Error; err != nil {
				return fmt.Errorf("create MPN: %w", err)
			}
		}
		return nil
	})
}

// benchAdmin is the global admin of bench organisation i (2…9); the demo's
// ada and fiona act for Contoso and Fabrikam.
func benchAdmin(i int) auth.Identity {
	return auth.Identity{UserID: fmt.Sprintf("admin@partner%d.example", i), Name: fmt.Sprintf("Admin of Partner %d", i),
		Email: fmt.Sprintf("admin@partner%d.example", i), OrganizationID: benchID("org", i), Roles: []auth.Role{auth.GlobalAdmin}}
}

func (s *seeder) partners(ctx context.Context) ([]partner, error) {
	ada, _ := demo.FindUser("ada")
	fiona, _ := demo.FindUser("fiona")
	ids := []auth.Identity{ada.Identity, fiona.Identity}
	for i := 2; i < organizations; i++ {
		ids = append(ids, benchAdmin(i))
	}
	out := make([]partner, len(ids))
	for i, id := range ids {
		var m models.Mpn
		err := s.db.WithContext(ctx).Where("organization_id = ? AND enrolled_at IS NOT NULL", id.OrganizationID).
			Order("partner_location_id").Take(&m).Error
		if err != nil {
			return nil, fmt.Errorf("find an enrolled MPN of %s: %w", id.UserID, err)
		}
		out[i] = partner{identity: id, mpn: m.ID}
	}
	return out, nil
}

// claims files claims from index `from` to `want`: first the customers they
// are on, then the claims, each step on several goroutines.
func (s *seeder) claims(ctx context.Context, from, want int) error {
	partners, err := s.partners(ctx)
	if err != nil {
		return err
	}
	per := len(dynamicsCodes)
	err = s.parallel(ctx, from/per, (want+per-1)/per, func(ctx context.Context, n int) error {
		return s.customer(ctx, benchID("tenant", n), fmt.Sprintf("Customer %d Ltd", n), fmt.Sprintf("customer%d", n))
	})
	if err != nil {
		return err
	}
	return s.parallel(ctx, from, want, func(ctx context.Context, i int) error {
		if err := s.claim(ctx, partners, i); err != nil {
			return err
		}
		if n := s.progress.Add(1); n%500 == 0 {
			fmt.Printf("  %d claims seeded\n", n)
		}
		return nil
	})
}

// parallel calls fn for from…to-1 on s.workers goroutines and stops at the
// first error.
func (s *seeder) parallel(ctx context.Context, from, to int, fn func(context.Context, int) error) error {
	work := make(chan int)
	errc := make(chan error, s.workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(ctx, i); err != nil {
					errc <- fmt.Errorf("item %d: %w", i, err)
					cancel()
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := from; i < to; i++ {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	return <-errc
}

// claimPlan is what becomes of claim i: its final status and how many comments
// people add to it besides those the workflow posts.
type claimPlan struct {
	status   models.ClaimStatus
	comments int
	attach   bool
}

// planFor spreads statuses over the index (37 is prime to 100, so neighbours
// differ) in the shares a busy programme has: 12% drafts, 14% submitted, 14%
// under review, 45% approved, 15% rejected. Submit posts one system comment
// and three events besides its own; an information request two comments.
// People add 0–5 comments (2.4 on average) to claims past the draft stage,
// which makes about 3.3 comments and 8.5 history events per claim overall.
func planFor(i int) claimPlan {
	p := claimPlan{attach: true, comments: (i*7)%5 + boolInt(i%7 < 3)}
	switch b := (i * 37) % 100; {
	case b < 12:
		return claimPlan{status: models.Draft, attach: i%2 == 0}
	case b < 26:
		p.status = models.Submitted
	case b < 40:
		p.status = models.UnderReview
	case b < 85:
		p.status = models.Approved
	default:
		p.status = models.Rejected
	}
	return p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var activities = []models.Activity{models.Presales, models.Usage, models.RevenueAssociation}

// claim files claim i: on tenant i/5, on
// that tenant's subscription to Dynamics product i%5, by organisation i%10.
func (s *seeder) claim(ctx context.Context, partners []partner, i int) error {
	tenantNo, productNo := i/len(dynamicsCodes), i%len(dynamicsCodes)
	tenant := benchID("tenant", tenantNo)
	domain := fmt.Sprintf("customer%d.onmicrosoft.com", tenantNo)
	p := partners[i%len(partners)]
	code := dynamicsCodes[productNo]
	sub := subscriptionID(tenant, code)
	c, err := s.draft(ctx, p, tenant, domain, code, sub, activities[(i/7)%len(activities)])
	if err != nil {
		return err
	}
	return s.advance(ctx, p, c.ID, planFor(i))
}

func subscriptionID(tenant uuid.UUID, code string) uuid.UUID {
	return uuid.NewSHA1(tenant, []byte(code))
}

// customer creates a tenant with one active subscription per Dynamics
// product, each claimable.
func (s *seeder) customer(ctx context.Context, tenant uuid.UUID, name, label string) error {
	if err := s.upsertTenant(ctx, tenant, name, label); err != nil {
		return err
	}
	ctx = as(ctx, operator())
	for _, code := range dynamicsCodes {
		_, err := s.svc.Catalog.UpsertSubscription(ctx, catalog.SubscriptionInput{
			ID: subscriptionID(tenant, code), TenantID: tenant, ProductID: s.products[code], Channel: models.WebDirect,
			ProvisioningState: models.Provisioned, Status: models.SubscriptionActive,
			StartsAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			return fmt.Errorf("create subscription: %w", err)
		}
	}
	return nil
}

func (s *seeder) upsertTenant(ctx context.Context, tenant uuid.UUID, name, label string) error {
	_, err := s.svc.Catalog.UpsertTenant(as(ctx, operator()), catalog.TenantInput{TenantID: tenant, DisplayName: name,
		Domains: []string{label + ".onmicrosoft.com", label + ".example.com"}, WorkloadIDs: []uuid.UUID{}})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", name, err)
	}
	return nil
}

func operator() auth.Identity {
	u, _ := demo.FindUser("oscar")
	return u.Identity
}

func as(ctx context.Context, id auth.Identity) context.Context { return auth.WithIdentity(ctx, &id) }

func (s *seeder) draft(ctx context.Context, p partner, tenant uuid.UUID, domain, code string, sub uuid.UUID, activity models.Activity) (*models.Claim, error) {
	area := models.BusinessApplications
	tenantID, subID, product, mpn := tenant.String(), sub.String(), s.products[code], p.mpn
	c, err := s.svc.Claims.Create(as(ctx, p.identity), claims.DraftInput{
		SolutionArea: &area, Activity: &activity, CustomerTenantID: &tenantID, CustomerDomain: &domain,
		ProductID: &product, SubscriptionID: &subID, MpnID: &mpn,
		CustomerContact: &claims.ContactInput{Name: "Dana Customer", Title: "CIO", Email: "dana@" + domain},
		PartnerContact:  &claims.ContactInput{Name: p.identity.Name, Email: p.identity.Email},
	})
	if err != nil {
		return nil, fmt.Errorf("create draft: %w", err)
	}
	return c, nil
}

// advance takes a draft to its planned status, with the comments people add
// on the way.
func (s *seeder) advance(ctx context.Context, p partner, claimID uuid.UUID, pl claimPlan) error {
	pctx, rctx := as(ctx, p.identity), as(ctx, s.reviewer)
	req := workflow.Request{ClaimID: claimID}
	if pl.attach {
		if _, err := s.svc.Claims.Attach(pctx, claimID, claims.Upload{FileName: "workshop-summary.pdf", Content: bytes.NewReader(demo.SamplePDF)}); err != nil {
			return fmt.Errorf("attach: %w", err)
		}
	}
	if pl.status == models.Draft {
		return nil
	}
	if _, err := s.svc.Workflow.Submit(pctx, req); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if pl.status != models.Submitted {
		if _, err := s.svc.Workflow.StartReview(rctx, req); err != nil {
			return fmt.Errorf("start review: %w", err)
		}
	}
	if pl.status == models.UnderReview {
		if _, err := s.svc.Workflow.RequestInformation(rctx, workflow.Request{ClaimID: claimID,
			Reason: "Please attach the signed workshop agenda and the attendee list."}); err != nil {
			return fmt.Errorf("request information: %w", err)
		}
	}
	if err := s.discuss(pctx, rctx, claimID, pl.comments); err != nil {
		return err
	}
	return s.decide(rctx, req, pl.status)
}

var commentBodies = []string{
	"The workshop took place on site with the customer's IT and finance leads; the agenda is attached.",
	"Thanks. Can you confirm the subscription was bought after the workshop?",
	"Yes: the order was placed three weeks after the workshop, the customer's e-mail confirms it.",
	"Noted. I am checking the proof against the tenant's purchase history.",
	"The customer's CIO is happy to confirm our involvement by e-mail if that helps.",
}

// discuss adds n comments, partner and reviewer in turn.
func (s *seeder) discuss(pctx, rctx context.Context, claimID uuid.UUID, n int) error {
	for k := range n {
		ctx := pctx
		if k%2 == 1 {
			ctx = rctx
		}
		if _, err := s.svc.Claims.AddComment(ctx, claimID, commentBodies[k%len(commentBodies)]); err != nil {
			return fmt.Errorf("comment: %w", err)
		}
	}
	return nil
}

func (s *seeder) decide(rctx context.Context, req workflow.Request, status models.ClaimStatus) error {
	var err error
	switch status {
	case models.Approved:
		req.Reason = "Proof of the workshop accepted."
		_, err = s.svc.Workflow.Approve(rctx, req)
	case models.Rejected:
		req.Reason = "The proof of execution predates the subscription; reclaim with current proof."
		_, err = s.svc.Workflow.Reject(rctx, req)
	}
	if err != nil {
		return fmt.Errorf("decide %s: %w", status, err)
	}
	return nil
}

// ensureSpares makes sure at least want spare subscriptions are unclaimed:
// spare tenants come five subscriptions at a time, and a spare a lifecycle
// claimed in an earlier run is no longer one.
func (s *seeder) ensureSpares(ctx context.Context, want int) error {
	have, err := s.unclaimedSpares(ctx)
	if err != nil {
		return err
	}
	var tenants int64
	if err := s.db.WithContext(ctx).Model(&models.CustomerTenant{}).Where("display_name LIKE ?", sparePrefix+"%").Count(&tenants).Error; err != nil {
		return fmt.Errorf("count spare tenants: %w", err)
	}
	for n := int(tenants); len(have) < want; n++ {
		tenant := benchID("spare", n)
		if err := s.customer(ctx, tenant, fmt.Sprintf("%s%d", sparePrefix, n), spareLabel(n)); err != nil {
			return err
		}
		for range dynamicsCodes {
			have = append(have, spare{})
		}
	}
	return nil
}

func spareLabel(n int) string { return fmt.Sprintf("spare%d", n) }

func (s *seeder) unclaimedSpares(ctx context.Context) ([]spare, error) {
	var rows []struct {
		ID, TenantID, ProductID uuid.UUID
		DisplayName             string
	}
	err := s.db.WithContext(ctx).Table("subscriptions AS s").
		Select("s.id, s.tenant_id, s.product_id, t.display_name").
		Joins("JOIN customer_tenants AS t ON t.id = s.tenant_id").
		Where("t.display_name LIKE ?", sparePrefix+"%").
		Where("NOT EXISTS (SELECT 1 FROM claims AS c WHERE c.subscription_id = s.id)").
		Order("t.display_name, s.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find unclaimed spare subscriptions: %w", err)
	}
	out := make([]spare, 0, len(rows))
	for _, r := range rows {
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(r.DisplayName, sparePrefix), "%d", &n); err != nil {
			return nil, fmt.Errorf("spare tenant %q: %w", r.DisplayName, err)
		}
		out = append(out, spare{tenant: r.TenantID, subscription: r.ID, product: r.ProductID,
			domain: spareLabel(n) + ".onmicrosoft.com"})
	}
	return out, nil
}

// describe reads back what the scenarios need and what the data set is.
func (s *seeder) describe(ctx context.Context) (*dataSet, error) {
	ds := &dataSet{products: s.products}
	var err error
	if ds.partners, err = s.partners(ctx); err != nil {
		return nil, err
	}
	if ds.spares, err = s.unclaimedSpares(ctx); err != nil {
		return nil, err
	}
	if err := s.seeded(ctx).Order("id").Pluck("id", &ds.claimIDs).Error; err != nil {
		return nil, fmt.Errorf("list claims: %w", err)
	}
	if len(ds.claimIDs) == 0 {
		return nil, errors.New("the database has no claims")
	}
	ds.summary, ds.lifecycleClaims, err = s.summary(ctx, len(ds.claimIDs))
	return ds, err
}

// seeded scopes claims to the data set: the lifecycle scenario's claims, on
// spare tenants, are left out.
func (s *seeder) seeded(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Model(&models.Claim{}).Where("customer_tenant_id NOT IN (?)",
		s.db.Model(&models.CustomerTenant{}).Select("id").Where("display_name LIKE ?", sparePrefix+"%"))
}

func (s *seeder) summary(ctx context.Context, claims int) (string, int64, error) {
	var comments, events, orgs, lifecycles int64
	db := s.db.WithContext(ctx)
	inSet := s.seeded(ctx).Select("id")
	counts := []struct {
		q *gorm.DB
		n *int64
	}{
		{db.Model(&models.Comment{}).Where("claim_id IN (?)", inSet), &comments},
		{db.Model(&models.ClaimEvent{}).Where("claim_id IN (?)", inSet), &events},
		{db.Model(&models.PartnerOrganization{}), &orgs},
		{db.Model(&models.Claim{}), &lifecycles},
	}
	for _, c := range counts {
		if err := c.q.Count(c.n).Error; err != nil {
			return "", 0, fmt.Errorf("count: %w", err)
		}
	}
	var byStatus []struct {
		Status string
		N      int
	}
	if err := s.seeded(ctx).Select("status, count(*) AS n").Group("status").Order("status").Scan(&byStatus).Error; err != nil {
		return "", 0, fmt.Errorf("count by status: %w", err)
	}
	parts := make([]string, len(byStatus))
	for i, b := range byStatus {
		parts[i] = fmt.Sprintf("%s %d", strings.ToLower(b.Status), b.N)
	}
	lifecycles -= int64(claims)
	return fmt.Sprintf("%d claims (%s) of %d partner organisations; %.1f comments and %.1f history events per claim",
		claims, strings.Join(parts, ", "), orgs, float64(comments)/float64(claims), float64(events)/float64(claims)), lifecycles, nil
}
