package claims

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
	"cpor/textrule"
)

// TimeRange is a span of time; a nil end is open. From is inclusive, To
// exclusive.
type TimeRange struct {
	From, To *time.Time
}

// searchRule bounds a search: one line of at most 200 characters, like the
// names it is matched against.
var searchRule = textrule.Name

// orderColumns are the claim columns each order sorts by, and whether the
// column may be NULL.
var orderColumns = map[OrderField]struct {
	column   string
	nullable bool
}{
	OrderCreatedAt:   {"created_at", false},
	OrderUpdatedAt:   {"updated_at", false},
	OrderSubmittedAt: {"submitted_at", true},
	OrderDecidedAt:   {"decided_at", true},
}

// keysetOf is the claim list's keyset for order and the cursor of a claim
// in it. Unknown fields sort by creation time.
func keysetOf(order Order) (relay.Keyset, func(*models.Claim) relay.Cursor) {
	oc, ok := orderColumns[order.Field]
	if !ok {
		order.Field, oc = OrderCreatedAt, orderColumns[OrderCreatedAt]
	}
	ks := relay.Keyset{TimeColumn: "claims." + oc.column, KeyColumn: "claims.id", Desc: order.Desc, NullsLast: oc.nullable}
	return ks, func(c *models.Claim) relay.Cursor {
		cur := relay.Cursor{Key: c.ID.String()}
		if t := orderTime(c, order.Field); t != nil {
			cur.Time = *t
		}
		return cur
	}
}

func orderTime(c *models.Claim, f OrderField) *time.Time {
	switch f {
	case OrderUpdatedAt:
		return &c.UpdatedAt
	case OrderSubmittedAt:
		return c.SubmittedAt
	case OrderDecidedAt:
		return c.DecidedAt
	}
	return &c.CreatedAt
}

// checkRanges refuses time ranges that end before they start.
func checkRanges(f Filter) error {
	var errs apperr.List
	for _, r := range []struct {
		field string
		r     TimeRange
	}{{"filter.submitted", f.Submitted}, {"filter.decided", f.Decided}, {"filter.updated", f.Updated}} {
		if r.r.From != nil && r.r.To != nil && !r.r.To.After(*r.r.From) {
			errs.Add(apperr.Invalidf(r.field+".to", "The range ends before it starts; give a to later than from."))
		}
	}
	return errs.Err()
}

// applyRanges narrows q to the filter's time ranges. Times are compared in
// UTC: SQLite compares the stored text, which is written in UTC.
func applyRanges(q *gorm.DB, f Filter) *gorm.DB {
	for _, r := range []struct {
		column string
		r      TimeRange
	}{{"claims.submitted_at", f.Submitted}, {"claims.decided_at", f.Decided}, {"claims.updated_at", f.Updated}} {
		if r.r.From != nil {
			q = q.Where(r.column+" >= ?", r.r.From.UTC())
		}
		if r.r.To != nil {
			q = q.Where(r.column+" < ?", r.r.To.UTC())
		}
	}
	return q
}

// cleanSearch checks the search text; blank means no search.
func cleanSearch(raw string) (string, error) {
	return searchRule.Clean(raw, "filter.search")
}

// applySearch narrows q to the claims whose name, domain, customer tenant
// name or any of its domains, or organisation name contains text, ignoring
// case, or whose ID it is. The joined tables are searched in subqueries of
// the same statement, so the list's page and count stay one statement each
// and whatever joins them in keeps its aliases.
func applySearch(q *gorm.DB, text string) *gorm.DB {
	if text == "" {
		return q
	}
	p := "%" + escapeLike(text) + "%"
	cond, args := searchOr(), []any{p, p, p, p, p}
	if storage.DialectOf(q) == storage.Postgres {
		cond = searchIndexed()
	}
	if id, ok := searchedID(text); ok {
		cond += " OR claims.id = ?"
		args = append(args, id)
	}
	return q.Where("("+cond+")", args...)
}

// searchOr is SQLite's search: one pass over the claims, each tested
// against every field. SQLite's LIKE ignores ASCII case only.
func searchOr() string {
	return strings.Join([]string{
		"claims.name LIKE ? ESCAPE '\\'",
		"claims.customer_domain LIKE ? ESCAPE '\\'",
		"claims.customer_tenant_id IN (" + searchedTenants("LIKE") + ")",
		"claims.organization_id IN (" + searchedOrganizations("LIKE") + ")",
	}, " OR ")
}

// searchIndexed is PostgreSQL's search: the IDs of the matching claims,
// each field searched through its own index (the trigram indexes of
// migration 00003, and the claims' tenant and organisation indexes), are
// collected first (ARRAY makes it an InitPlan), then the claims are read by
// primary key. A search that matches few claims among many, the usual one,
// reads only those; with the OR form above PostgreSQL walks the claims in
// page order testing each, which reads every claim when few match
// (measured in docs/search-and-export.md).
func searchIndexed() string {
	return "claims.id = ANY(ARRAY(" + strings.Join([]string{
		"SELECT id FROM claims AS searched WHERE name ILIKE ? ESCAPE '\\'",
		"SELECT id FROM claims AS searched WHERE customer_domain ILIKE ? ESCAPE '\\'",
		"SELECT id FROM claims AS searched WHERE customer_tenant_id IN (" + searchedTenants("ILIKE") + ")",
		"SELECT id FROM claims AS searched WHERE organization_id IN (" + searchedOrganizations("ILIKE") + ")",
	}, " UNION ") + "))"
}

func searchedTenants(like string) string {
	return "SELECT id FROM customer_tenants WHERE display_name " + like + " ? ESCAPE '\\'" +
		" UNION SELECT tenant_id FROM tenant_domains WHERE domain " + like + " ? ESCAPE '\\'"
}

func searchedOrganizations(like string) string {
	return "SELECT id FROM partner_organizations WHERE name " + like + " ? ESCAPE '\\'"
}

// escapeLike makes s match itself in a LIKE pattern escaped by '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// searchedID reads the search text as a claim's ID: its global ID or its
// UUID in any usual spelling.
func searchedID(text string) (uuid.UUID, bool) {
	if id, err := relay.ParseUUID(text, relay.TypeClaim, "filter.search"); err == nil {
		return id, true
	}
	if id, err := relay.ParseGUID(text, "filter.search", "claim ID"); err == nil {
		return id, true
	}
	return uuid.Nil, false
}
