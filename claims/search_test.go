package claims_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
)

// A claim's name is cleaned like other names, bounded, and carried over by
// a reclaim.
func TestClaimName(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		in := k.woodgrove()
		in.Name = p("  Woodgrove renewal, Q3  ")
		c := k.create("ada", in)
		if got := k.claim(c.ID).Name; got != "Woodgrove renewal, Q3" {
			t.Errorf("stored name %q", got)
		}
		for _, bad := range []string{"two\nlines", "nul\x00", strings.Repeat("n", 201)} {
			_, err := k.w.Claims.Update(testkit.As("ada"), c.ID, nil, claims.DraftInput{Name: p(bad)})
			wantCode(t, err, apperr.InvalidInput, "name")
		}
		old := k.demoClaim(demo.Fabrikam, models.Rejected)
		if err := k.w.DB.Model(&models.Claim{}).Where("id = ?", old.ID).Update("name", "Fabrikam's first").Error; err != nil {
			t.Fatal(err)
		}
		re, err := k.w.Claims.Reclaim(testkit.As("fiona"), old.ID, p(models.Usage), nil)
		if err != nil {
			t.Fatal(err)
		}
		if re.Name != "Fabrikam's first" {
			t.Errorf("reclaimed name %q", re.Name)
		}
	})
}

// searchable is what a claim is searched by.
type searchable struct {
	claim  models.Claim
	fields []string
}

// everyClaim loads every claim with the texts search matches it by.
func (k kit) everyClaim() []searchable {
	k.t.Helper()
	var all []models.Claim
	var tenants []models.CustomerTenant
	var orgs []models.PartnerOrganization
	var domains []struct {
		Domain   string
		TenantID uuid.UUID
	}
	db := k.w.DB
	for _, err := range []error{
		db.Find(&all).Error, db.Find(&tenants).Error, db.Find(&orgs).Error,
		db.Table("tenant_domains").Select("domain, tenant_id").Scan(&domains).Error,
	} {
		if err != nil {
			k.t.Fatal(err)
		}
	}
	out := make([]searchable, len(all))
	for i, c := range all {
		s := searchable{claim: c, fields: []string{c.Name, c.CustomerDomain}}
		for _, t := range tenants {
			if t.ID == c.CustomerTenantID {
				s.fields = append(s.fields, t.DisplayName)
			}
		}
		for _, d := range domains {
			if d.TenantID == c.CustomerTenantID {
				s.fields = append(s.fields, d.Domain)
			}
		}
		for _, o := range orgs {
			if o.ID == c.OrganizationID {
				s.fields = append(s.fields, o.Name)
			}
		}
		out[i] = s
	}
	return out
}

// listAll pages through the list as who, forwards, and returns the IDs.
func (k kit) listAll(who string, f claims.Filter, o claims.Order, pageSize int) []uuid.UUID {
	k.t.Helper()
	var ids []uuid.UUID
	args := relay.Args{First: &pageSize}
	for {
		conn, err := k.w.Claims.List(testkit.As(who), f, o, args)
		if err != nil {
			k.t.Fatalf("list %+v: %v", f, err)
		}
		for _, c := range conn.Items {
			ids = append(ids, c.ID)
		}
		if !conn.PageInfo.HasNextPage {
			return ids
		}
		args.After = conn.PageInfo.EndCursor
	}
}

// listAllBackwards pages through the list from its end with last/before.
func (k kit) listAllBackwards(who string, f claims.Filter, o claims.Order, pageSize int) []uuid.UUID {
	k.t.Helper()
	var ids []uuid.UUID
	args := relay.Args{Last: &pageSize}
	for {
		conn, err := k.w.Claims.List(testkit.As(who), f, o, args)
		if err != nil {
			k.t.Fatalf("list %+v: %v", f, err)
		}
		page := make([]uuid.UUID, len(conn.Items))
		for i, c := range conn.Items {
			page[i] = c.ID
		}
		ids = append(page, ids...)
		if !conn.PageInfo.HasPreviousPage {
			return ids
		}
		args.Before = conn.PageInfo.StartCursor
	}
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Search matches every searched text as a case-insensitive substring, the
// claim's own ID exactly, and treats LIKE's wildcards as plain characters:
// the list gives exactly the claims a plain Go match gives.
func TestSearchMatchesTheSameClaimsAsAPlainMatch(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		in := k.woodgrove()
		in.Name = p("Renewal 100%_done")
		named := k.create("ada", in)
		all := k.everyClaim()
		for _, q := range []string{"contoso", "NORTHWIND", "tailspintoys", "Toys", "renewal", "100%", "%", "_", `\`, "0%_d", "  woodgrove  ", "zzz-none"} {
			var want []uuid.UUID
			needle := strings.ToLower(strings.TrimSpace(q))
			for _, s := range all {
				if slices.ContainsFunc(s.fields, func(f string) bool { return strings.Contains(strings.ToLower(f), needle) }) {
					want = append(want, s.claim.ID)
				}
			}
			got := k.listAll("rita", claims.Filter{Search: q}, claims.Order{}, 100)
			if !slices.Equal(sortedIDs(got), sortedIDs(want)) {
				t.Errorf("search %q: got %d claims, want %d", q, len(got), len(want))
			}
		}
		for _, q := range []string{relay.UUIDGlobalID(relay.TypeClaim, named.ID), named.ID.String(), strings.ToUpper(named.ID.String())} {
			got := k.listAll("rita", claims.Filter{Search: q}, claims.Order{}, 100)
			if !slices.Equal(got, []uuid.UUID{named.ID}) {
				t.Errorf("search by ID %q: %v", q, got)
			}
		}
		// A partner's search stays within its organisation.
		for _, id := range k.listAll("fiona", claims.Filter{Search: "contoso"}, claims.Order{}, 100) {
			if k.claim(id).OrganizationID != demo.Fabrikam {
				t.Errorf("fiona's search found another organisation's claim %s", id)
			}
		}
	})
}

func TestSearchIsBounded(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		for _, q := range []string{strings.Repeat("a", 201), "a\x00b", "line\nbreak", "\u202Eevil", "\xff"} {
			_, err := k.w.Claims.List(testkit.As("rita"), claims.Filter{Search: q}, claims.Order{}, relay.Args{})
			wantCode(t, err, apperr.InvalidInput, "filter.search")
		}
		if _, err := k.w.Claims.List(testkit.As("rita"), claims.Filter{Search: strings.Repeat("é", 200)}, claims.Order{}, relay.Args{}); err != nil {
			t.Errorf("200 characters: %v", err)
		}
	})
}

// copies inserts n claims like a rejected demo claim: every third a draft
// (no submission or decision), the others rejected at one of three
// instants, so that times tie and NULLs sit beside them.
func (k kit) copies(n int) {
	k.t.Helper()
	tmpl := k.demoClaim(demo.Fabrikam, models.Rejected)
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	rows := make([]models.Claim, n)
	for i := range rows {
		c := tmpl
		c.ID, c.ArbitrationCaseID, c.ReclaimedFromID = uuid.New(), nil, nil
		at := base.Add(time.Duration(i%3) * time.Hour)
		c.CreatedAt, c.UpdatedAt = at, at.Add(time.Duration(i%2)*time.Minute)
		if i%3 == 0 {
			c.Status, c.SubmittedAt, c.ReviewDueAt, c.DecidedAt, c.DecisionReason = models.Draft, nil, nil, nil, ""
		} else {
			decided := at.Add(24 * time.Hour)
			c.SubmittedAt, c.DecidedAt = &at, &decided
		}
		rows[i] = c
	}
	if err := k.w.DB.Create(&rows).Error; err != nil {
		k.t.Fatal(err)
	}
}

// expectOrder sorts claims as the list does: by the time (claims without
// one last in either direction), then by ID.
func expectOrder(all []searchable, timeOf func(*models.Claim) *time.Time, desc bool) []uuid.UUID {
	cs := make([]models.Claim, len(all))
	for i := range all {
		cs[i] = all[i].claim
	}
	slices.SortFunc(cs, func(a, b models.Claim) int {
		ta, tb := timeOf(&a), timeOf(&b)
		if (ta == nil) != (tb == nil) {
			if ta == nil {
				return 1
			}
			return -1
		}
		c := 0
		if ta != nil {
			c = ta.Compare(*tb)
		}
		c = cmp.Or(c, strings.Compare(a.ID.String(), b.ID.String()))
		if desc {
			return -c
		}
		return c
	})
	ids := make([]uuid.UUID, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
	}
	return ids
}

// Sorting by a time that drafts or open claims lack puts those claims last
// in either direction, breaks ties by ID, and pages the same forwards and
// backwards across the boundary between claims with and without the time.
func TestSortByNullableTimesPagesAcrossNulls(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		k.copies(23)
		all := k.everyClaim()
		for _, c := range []struct {
			field  claims.OrderField
			timeOf func(*models.Claim) *time.Time
		}{
			{claims.OrderSubmittedAt, func(c *models.Claim) *time.Time { return c.SubmittedAt }},
			{claims.OrderDecidedAt, func(c *models.Claim) *time.Time { return c.DecidedAt }},
			{claims.OrderUpdatedAt, func(c *models.Claim) *time.Time { return &c.UpdatedAt }},
		} {
			for _, desc := range []bool{false, true} {
				want := expectOrder(all, c.timeOf, desc)
				o := claims.Order{Field: c.field, Desc: desc}
				for _, size := range []int{1, 3, 7, 100} {
					if got := k.listAll("rita", claims.Filter{}, o, size); !slices.Equal(got, want) {
						t.Errorf("%s desc=%v first %d: got %v\nwant %v", c.field, desc, size, got, want)
					}
					if got := k.listAllBackwards("rita", claims.Filter{}, o, size); !slices.Equal(got, want) {
						t.Errorf("%s desc=%v last %d: got %v\nwant %v", c.field, desc, size, got, want)
					}
				}
			}
		}
	})
}

// Time ranges include from and exclude to; a range that ends before it
// starts is INVALID_INPUT.
func TestTimeRangeFilters(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		k.copies(9)
		all := k.everyClaim()
		base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		// from given in another zone: the same instant.
		from, to := base.Add(time.Hour).In(time.FixedZone("X", 5*3600)), base.Add(2*time.Hour)
		r := claims.TimeRange{From: &from, To: &to}
		for name, c := range map[string]struct {
			f      claims.Filter
			timeOf func(*models.Claim) *time.Time
		}{
			"submitted": {claims.Filter{Submitted: r}, func(c *models.Claim) *time.Time { return c.SubmittedAt }},
			"decided":   {claims.Filter{Decided: claims.TimeRange{From: p(from.Add(24 * time.Hour))}}, func(c *models.Claim) *time.Time { return c.DecidedAt }},
			"updated":   {claims.Filter{Updated: claims.TimeRange{To: &to}}, func(c *models.Claim) *time.Time { return &c.UpdatedAt }},
		} {
			var want []uuid.UUID
			for _, s := range all {
				tm := c.timeOf(&s.claim)
				rr := c.f.Submitted
				if name == "decided" {
					rr = c.f.Decided
				} else if name == "updated" {
					rr = c.f.Updated
				}
				if tm != nil && (rr.From == nil || !tm.Before(*rr.From)) && (rr.To == nil || tm.Before(*rr.To)) {
					want = append(want, s.claim.ID)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: the fixture matches nothing", name)
			}
			if got := k.listAll("rita", c.f, claims.Order{}, 100); !slices.Equal(sortedIDs(got), sortedIDs(want)) {
				t.Errorf("%s: got %d claims, want %d", name, len(got), len(want))
			}
		}
		_, err := k.w.Claims.List(testkit.As("rita"), claims.Filter{Decided: claims.TimeRange{From: &to, To: &to}}, claims.Order{}, relay.Args{})
		wantCode(t, err, apperr.InvalidInput, "filter.decided.to")
	})
}
