package catalog_test

// The checks of docs/product.md §4 (catalog.Check) on the demo catalog, on both
// databases: each check with its code and field, checks reported together,
// checks that depend on a failed one skipped, and the activity table of
// docs/product.md §3.2.

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/demo"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
)

// checkWorld is a seeded world with lookups by code.
type checkWorld struct {
	t *testing.T
	w *testkit.World
}

func (c checkWorld) product(code string) *uuid.UUID {
	id := testkit.ProductID(c.t, c.w, code)
	return &id
}

func (c checkWorld) mpn(partnerLocationID int64) *uuid.UUID {
	c.t.Helper()
	var m models.Mpn
	if err := c.w.DB.Where("partner_location_id = ?", partnerLocationID).Take(&m).Error; err != nil {
		c.t.Fatal(err)
	}
	return &m.ID
}

func (c checkWorld) claimOf(org uuid.UUID, status models.ClaimStatus) uuid.UUID {
	c.t.Helper()
	var cl models.Claim
	if err := c.w.DB.Where("organization_id = ? AND status = ?", org, status).Order("created_at").Take(&cl).Error; err != nil {
		c.t.Fatal(err)
	}
	return cl.ID
}

func idp(s string) *uuid.UUID {
	u := uuid.MustParse(s)
	return &u
}

const woodgroveSub = "5a1e0000-0000-4000-8000-000000000041"

// woodgrove states a valid Contoso claim on Woodgrove Bank's Dynamics 365
// Sales subscription.
func (c checkWorld) woodgrove() catalog.Facts {
	return catalog.Facts{
		OrganizationID: demo.Contoso, SolutionArea: models.BusinessApplications, Activity: models.Usage,
		TenantID: demo.Woodgrove, Domain: "woodgrovebank.com",
		ProductID: c.product("D365_SALES"), SubscriptionID: idp(woodgroveSub), MpnID: c.mpn(4000001),
	}
}

func northwind(f *catalog.Facts) { f.TenantID, f.Domain = demo.Northwind, "northwindtraders.com" }

// problem is one expected violation.
type problem struct {
	code  apperr.Code
	field string
}

type checkCase struct {
	name string
	edit func(c checkWorld, f *catalog.Facts)
	want []problem // exactly these, in any order; none for valid facts
}

func checkCases() []checkCase {
	return []checkCase{
		// Valid facts.
		{name: "valid Business Applications claim", edit: func(checkWorld, *catalog.Facts) {}},
		{name: "in-grace subscription", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_CUSTOMER_SERVICE"), &demo.SubInGrace
		}},
		{name: "revenue association where another organisation's claim was rejected", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.OrganizationID, f.MpnID, f.Activity = demo.Fabrikam, c.mpn(5000001), models.RevenueAssociation
			f.ProductID, f.SubscriptionID = c.product("D365_CUSTOMER_SERVICE"), &demo.SubInGrace
		}},
		{name: "another organisation may claim a subscription Contoso holds", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.OrganizationID, f.MpnID, f.Activity, f.SubscriptionID = demo.Fabrikam, c.mpn(5000001), models.Presales, &demo.SubActive
		}},
		{name: "the holding claim itself is not a duplicate", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ClaimID = c.claimOf(demo.Contoso, models.Approved)
			f.Activity, f.SubscriptionID = models.Presales, &demo.SubActive
		}},
		{name: "same subscription, another activity", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.Activity, f.SubscriptionID = models.Usage, &demo.SubActive
		}},
		{name: "valid Microsoft 365 claim", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.ProductID, f.SubscriptionID = models.Microsoft365, c.product("TEAMS"), nil
		}},
		{name: "initial domain", edit: func(c checkWorld, f *catalog.Facts) { f.Domain = "woodgrove.onmicrosoft.com" }},
		{name: "draft with only tenant and domain", edit: func(c checkWorld, f *catalog.Facts) {
			f.ProductID, f.SubscriptionID, f.MpnID = nil, nil, nil
		}},
		{name: "draft without a domain yet", edit: func(c checkWorld, f *catalog.Facts) { f.Domain = "" }},

		// One violation each.
		{name: "domain of another tenant", edit: func(c checkWorld, f *catalog.Facts) { f.Domain = "northwindtraders.com" },
			want: []problem{{apperr.DomainTenantMismatch, "customerDomain"}}},
		{name: "unknown domain", edit: func(c checkWorld, f *catalog.Facts) { f.Domain = "woodgrove.example" },
			want: []problem{{apperr.DomainTenantMismatch, "customerDomain"}}},
		{name: "unknown tenant", edit: func(c checkWorld, f *catalog.Facts) { f.TenantID = uuid.New() },
			want: []problem{{apperr.TenantNotFound, "customerTenantId"}}},
		{name: "tenant ID as subscription ID", edit: func(c checkWorld, f *catalog.Facts) { f.SubscriptionID = &demo.Woodgrove },
			want: []problem{{apperr.InvalidSubscriptionID, "subscriptionId"}}},
		{name: "another tenant's ID as subscription ID", edit: func(c checkWorld, f *catalog.Facts) { f.SubscriptionID = &demo.Northwind },
			want: []problem{{apperr.InvalidSubscriptionID, "subscriptionId"}}},
		{name: "order ID as subscription ID", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.SubscriptionID = &demo.OrderOfSubActive
		}, want: []problem{{apperr.InvalidSubscriptionID, "subscriptionId"}}},
		{name: "subscription of another tenant", edit: func(c checkWorld, f *catalog.Facts) { f.SubscriptionID = &demo.SubActive },
			want: []problem{{apperr.SubscriptionNotFoundOnTenant, "subscriptionId"}}},
		{name: "unknown subscription", edit: func(c checkWorld, f *catalog.Facts) { f.SubscriptionID = idp("5a1e0000-0000-4000-8000-0000000000ff") },
			want: []problem{{apperr.SubscriptionNotFoundOnTenant, "subscriptionId"}}},
		{name: "product without a subscription on the tenant", edit: func(c checkWorld, f *catalog.Facts) {
			f.ProductID, f.SubscriptionID = c.product("D365_FINANCE"), nil
		}, want: []problem{{apperr.ProductNotOnTenant, "productId"}}},
		{name: "workload the tenant does not use", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.ProductID, f.SubscriptionID = models.Microsoft365, c.product("ONEDRIVE"), nil
		}, want: []problem{{apperr.ProductNotOnTenant, "productId"}}},
		{name: "subscription for a Microsoft 365 product", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = nil, &demo.SubNotDynamics
		}, want: []problem{{apperr.SubscriptionNotDynamics, "subscriptionId"}}},
		{name: "CSP subscription", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_BUSINESS_CENTRAL"), &demo.SubCSP
		}, want: []problem{{apperr.SubscriptionIsCSP, "subscriptionId"}}},
		{name: "subscription not provisioned", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_FINANCE"), &demo.SubNotProvisioned
		}, want: []problem{{apperr.SubscriptionNotProvisioned, "subscriptionId"}}},
		{name: "expired subscription", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_FIELD_SERVICE"), &demo.SubExpired
		}, want: []problem{{apperr.SubscriptionNotActive, "subscriptionId"}}},
		{name: "approved claim of the organisation on the subscription", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.Activity, f.SubscriptionID = models.Presales, &demo.SubActive
		}, want: []problem{{apperr.SubscriptionAlreadyClaimed, "subscriptionId"}}},
		{name: "open claim of the organisation on the subscription", edit: func(c checkWorld, f *catalog.Facts) {
			f.TenantID, f.Domain = demo.AdventureWorks, "adventure-works.com"
			f.ProductID, f.SubscriptionID = c.product("D365_FINANCE"), idp("5a1e0000-0000-4000-8000-000000000031")
		}, want: []problem{{apperr.SubscriptionAlreadyClaimed, "subscriptionId"}}},
		{name: "open claim of the organisation on the workload", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.TenantID, f.Domain = models.Microsoft365, demo.Litware, "litwareinc.com"
			f.ProductID, f.SubscriptionID = c.product("SHAREPOINT"), nil
		}, want: []problem{{apperr.SubscriptionAlreadyClaimed, "productId"}}},
		{name: "Microsoft 365 pre-sales", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.Activity, f.ProductID, f.SubscriptionID = models.Microsoft365, models.Presales, c.product("TEAMS"), nil
		}, want: []problem{{apperr.ActivityNotAllowed, "activity"}}},
		{name: "Microsoft 365 revenue association", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.Activity, f.ProductID, f.SubscriptionID = models.Microsoft365, models.RevenueAssociation, c.product("TEAMS"), nil
		}, want: []problem{{apperr.ActivityNotAllowed, "activity"}}},
		{name: "unknown activity", edit: func(c checkWorld, f *catalog.Facts) { f.Activity = "CONSULTING" },
			want: []problem{{apperr.ActivityNotAllowed, "activity"}}},
		{name: "MPN not enrolled", edit: func(c checkWorld, f *catalog.Facts) { f.MpnID = c.mpn(4000002) },
			want: []problem{{apperr.MpnNotEnrolled, "mpnId"}}},
		{name: "MPN of another organisation", edit: func(c checkWorld, f *catalog.Facts) { f.MpnID = c.mpn(5000001) },
			want: []problem{{apperr.MpnNotFound, "mpnId"}}},
		{name: "unknown MPN", edit: func(c checkWorld, f *catalog.Facts) { f.MpnID = idp("00000000-0000-4000-8000-000000000001") },
			want: []problem{{apperr.MpnNotFound, "mpnId"}}},
		{name: "unknown product", edit: func(c checkWorld, f *catalog.Facts) { f.ProductID = idp("00000000-0000-4000-8000-000000000002") },
			want: []problem{{apperr.NotFound, "productId"}}},
		{name: "product of the other solution area", edit: func(c checkWorld, f *catalog.Facts) {
			f.ProductID, f.SubscriptionID = c.product("TEAMS"), nil
		}, want: []problem{{apperr.InvalidInput, "productId"}}},
		{name: "subscription of another product", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.SubscriptionID = &demo.SubInGrace
		}, want: []problem{{apperr.InvalidInput, "subscriptionId"}}},
		{name: "Microsoft 365 claim naming a subscription", edit: func(c checkWorld, f *catalog.Facts) {
			f.SolutionArea, f.ProductID = models.Microsoft365, c.product("TEAMS")
		}, want: []problem{{apperr.InvalidInput, "subscriptionId"}}},

		// Several at once: every independent violation is reported.
		{name: "several violations together", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.Domain, f.MpnID = "woodgrovebank.com", c.mpn(4000002)
			f.ProductID, f.SubscriptionID = c.product("D365_BUSINESS_CENTRAL"), &demo.SubCSP
			f.Activity = "CONSULTING"
		}, want: []problem{{apperr.ActivityNotAllowed, "activity"}, {apperr.MpnNotEnrolled, "mpnId"},
			{apperr.DomainTenantMismatch, "customerDomain"}, {apperr.SubscriptionIsCSP, "subscriptionId"}}},
		{name: "subscription failing three checks", edit: func(c checkWorld, f *catalog.Facts) {
			tenant, sub := testkit.FreshTarget(c.t, c.w, "threefold")
			_, err := c.w.Catalog.UpsertSubscription(testkit.As("oscar"), catalog.SubscriptionInput{
				ID: sub, TenantID: tenant, ProductID: *c.product("D365_SALES"), Channel: models.CSP,
				ProvisioningState: models.ProvisioningPending, Status: models.SubscriptionSuspended, StartsAt: storage.Now(),
			})
			if err != nil {
				c.t.Fatal(err)
			}
			f.TenantID, f.Domain, f.SubscriptionID = tenant, "threefold.onmicrosoft.com", &sub
		}, want: []problem{{apperr.SubscriptionIsCSP, "subscriptionId"}, {apperr.SubscriptionNotProvisioned, "subscriptionId"},
			{apperr.SubscriptionNotActive, "subscriptionId"}}},

		// A check that depends on a failed one is skipped.
		{name: "no subscription checks on an unknown tenant", edit: func(c checkWorld, f *catalog.Facts) {
			f.TenantID, f.SubscriptionID = uuid.New(), &demo.SubCSP
		}, want: []problem{{apperr.TenantNotFound, "customerTenantId"}}},
		{name: "no product-on-tenant check for an unknown tenant", edit: func(c checkWorld, f *catalog.Facts) {
			f.TenantID, f.ProductID, f.SubscriptionID = uuid.New(), c.product("D365_FINANCE"), nil
		}, want: []problem{{apperr.TenantNotFound, "customerTenantId"}}},
		{name: "no duplicate check on another tenant's subscription", edit: func(c checkWorld, f *catalog.Facts) {
			f.Activity, f.SubscriptionID = models.Presales, &demo.SubActive
		}, want: []problem{{apperr.SubscriptionNotFoundOnTenant, "subscriptionId"}}},
		{name: "no further subscription checks on a non-Dynamics subscription", edit: func(c checkWorld, f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_SALES"), &demo.SubNotDynamics
		}, want: []problem{{apperr.SubscriptionNotDynamics, "subscriptionId"}}},
	}
}

// TestCheck runs every case on both databases.
func TestCheck(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		for _, tc := range checkCases() {
			t.Run(tc.name, func(t *testing.T) {
				c := checkWorld{t: t, w: w}
				facts := c.woodgrove()
				tc.edit(c, &facts)
				got, err := catalog.Check(context.Background(), w.DB, facts)
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				var gotP []problem
				for _, e := range got {
					gotP = append(gotP, problem{e.Code, e.Field})
					if strings.TrimSpace(e.Message) == "" {
						t.Errorf("%s on %q has no message", e.Code, e.Field)
					}
				}
				if !sameProblems(gotP, tc.want) {
					t.Errorf("Check found %v; want %v", got, tc.want)
				}
				if (len(tc.want) == 0) != (got.Err() == nil) {
					t.Errorf("Err() = %v for %d problems", got.Err(), len(got))
				}
			})
		}
	})
}

func sameProblems(got, want []problem) bool {
	less := func(a, b problem) int { return strings.Compare(string(a.code)+a.field, string(b.code)+b.field) }
	g, w := slices.Clone(got), slices.Clone(want)
	slices.SortFunc(g, less)
	slices.SortFunc(w, less)
	return slices.Equal(g, w)
}

// TestCheckMessagesSayWhatToDo: the messages say what to do next.
func TestCheckMessagesSayWhatToDo(t *testing.T) {
	testkit.Each(t, checkAdvice)
}

func checkAdvice(t *testing.T, w *testkit.World) {
	c := checkWorld{t: t, w: w}
	advice := []struct {
		edit func(f *catalog.Facts)
		code apperr.Code
		says string
	}{
		{func(f *catalog.Facts) { f.TenantID = uuid.New() }, apperr.TenantNotFound, "contact your customer to confirm the tenant ID"},
		{func(f *catalog.Facts) { f.Domain = "northwindtraders.com" }, apperr.DomainTenantMismatch, "contact your customer"},
		{func(f *catalog.Facts) {
			northwind(f)
			f.ProductID, f.SubscriptionID = c.product("D365_FINANCE"), &demo.SubNotProvisioned
		}, apperr.SubscriptionNotProvisioned, "ask the customer to provision the subscription"},
		{func(f *catalog.Facts) { f.MpnID = c.mpn(4000002) }, apperr.MpnNotEnrolled, "enroll the MPN in the Incentives overview"},
		{func(f *catalog.Facts) { f.SubscriptionID = &demo.Woodgrove }, apperr.InvalidSubscriptionID, "tenant ID, not a subscription ID"},
		{func(f *catalog.Facts) {
			northwind(f)
			f.SubscriptionID = &demo.OrderOfSubActive
		}, apperr.InvalidSubscriptionID, "order ID, not a subscription ID"},
	}
	for _, a := range advice {
		facts := c.woodgrove()
		a.edit(&facts)
		got, err := catalog.Check(context.Background(), w.DB, facts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Code != a.code || !strings.Contains(got[0].Message, a.says) {
			t.Errorf("Check = %v; want %s saying %q", got, a.code, a.says)
		}
	}
}

// TestActivitiesTable: the pairs of docs/product.md §3.2, and no others.
func TestActivitiesTable(t *testing.T) {
	allowed := map[models.SolutionArea][]models.Activity{
		models.BusinessApplications: {models.Presales, models.Usage, models.RevenueAssociation},
		models.Microsoft365:         {models.Usage},
	}
	for _, area := range append(slices.Clone(models.SolutionAreas), "AZURE") {
		for _, act := range append(slices.Clone(models.Activities), "CONSULTING") {
			info, ok := catalog.LookupActivity(area, act)
			want := slices.Contains(allowed[area], act)
			if ok != want {
				t.Errorf("LookupActivity(%s, %s) = %v; want %v", area, act, ok, want)
				continue
			}
			if !ok {
				continue
			}
			if info.SolutionArea != area || info.Activity != act || info.Description == "" {
				t.Errorf("LookupActivity(%s, %s) = %+v", area, act, info)
			}
			// Revenue association earns no incentive; the others do.
			if info.IncentiveEligible != (act != models.RevenueAssociation) {
				t.Errorf("%s %s: incentive eligible = %v", area, act, info.IncentiveEligible)
			}
			// Business Applications: Volume Licensing and Web Direct only;
			// Microsoft 365: any channel.
			wantChannels := []models.PurchaseChannel{models.VolumeLicensing, models.WebDirect}
			if area == models.Microsoft365 {
				wantChannels = nil
			}
			if !slices.Equal(info.PurchaseChannels, wantChannels) {
				t.Errorf("%s %s: channels %v; want %v", area, act, info.PurchaseChannels, wantChannels)
			}
		}
		var got []models.Activity
		for _, a := range catalog.Activities(area) {
			got = append(got, a.Activity)
		}
		if !slices.Equal(got, allowed[area]) {
			t.Errorf("Activities(%s) = %v; want %v", area, got, allowed[area])
		}
	}
}
