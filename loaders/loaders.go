// Package loaders batches the lookups a GraphQL response makes per row
// (a claim's product, organisation, MPN, tenant, association, comments …)
// into one query per kind and request: rows listed together (a page) load
// as a group the moment the first is asked for; others are gathered for a
// moment by vikstrous/dataloadgen.
package loaders

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/claims"
	"cpor/models"
	"cpor/workflow"
)

// Loaders are one request's batch loaders. A missing row loads as nil.
type Loaders struct {
	Products         *Keyed[*models.Product]
	Organizations    *Keyed[*models.PartnerOrganization]
	Mpns             *Keyed[*models.Mpn]
	Tenants          *Keyed[*models.CustomerTenant]
	TenantDomains    *Keyed[[]models.TenantDomain]
	Claims           *Keyed[*models.Claim]
	Cases            *Keyed[*models.ArbitrationCase]
	Associations     *Keyed[*models.Association]
	ClaimAssociation *Keyed[*models.Association]
	Comments         *Keyed[*models.Comment]
	Documents        *Keyed[*models.Document]
	// CaseClaims are the claims of each case, whoever may see them.
	CaseClaims *Keyed[[]models.Claim]

	// A claim's child lists, batched across the claims of a page.
	CommentPages  *Pages[models.Comment]
	DocumentPages *Pages[models.Document]
	EventPages    *Pages[models.ClaimEvent]

	siblings *siblings
}

// New returns fresh loaders reading from db.
func New(db *gorm.DB) *Loaders {
	s := newSiblings()
	return &Loaders{
		siblings:      s,
		Products:      byID(db, s, "id", func(p *models.Product) uuid.UUID { return p.ID }),
		Organizations: byID(db, s, "id", func(o *models.PartnerOrganization) uuid.UUID { return o.ID }),
		Mpns:          byID(db, s, "id", func(m *models.Mpn) uuid.UUID { return m.ID }),
		Tenants:       byID(db, s, "id", func(t *models.CustomerTenant) uuid.UUID { return t.ID }),
		TenantDomains: newKeyed(s, tenantDomains(db)),
		Claims:        byID(db, s, "id", func(c *models.Claim) uuid.UUID { return c.ID }),
		Cases:         byID(db, s, "id", func(c *models.ArbitrationCase) uuid.UUID { return c.ID }),
		Associations:  byID(db, s, "id", func(a *models.Association) uuid.UUID { return a.ID }),
		// A claim has at most one association (claim_id is unique).
		ClaimAssociation: byID(db, s, "claim_id", func(a *models.Association) uuid.UUID { return a.ClaimID }),
		Comments:         byID(db, s, "id", func(c *models.Comment) uuid.UUID { return c.ID }),
		Documents:        byID(db, s, "id", func(d *models.Document) uuid.UUID { return d.ID }),
		CaseClaims: newKeyed(s, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]models.Claim, error) {
			return workflow.ClaimsOfCases(db.WithContext(ctx), ids)
		}),
		CommentPages:  newPages(db, claims.CommentList, s, nil),
		DocumentPages: newPages(db, claims.DocumentList, s, nil),
		EventPages:    newPages(db, claims.EventList, s, eventRefs),
	}
}

// wait is how long a loader gathers keys before it queries; batchCapacity
// is the most keys one query takes (a page holds at most 100 parents).
const (
	wait          = 2 * time.Millisecond
	batchCapacity = 500
)

func byID[T any](db *gorm.DB, s *siblings, column string, key func(*T) uuid.UUID) *Keyed[*T] {
	return newKeyed(s, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*T, error) {
		var rows []T
		if err := db.WithContext(ctx).Where(column+" IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("batch load by %s: %w", column, err)
		}
		out := make(map[uuid.UUID]*T, len(rows))
		for i := range rows {
			out[key(&rows[i])] = &rows[i]
		}
		return out, nil
	})
}

// tenantDomains loads each tenant's domains, initial domain first.
func tenantDomains(db *gorm.DB) fetchFunc[[]models.TenantDomain] {
	return func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]models.TenantDomain, error) {
		var rows []models.TenantDomain
		if err := db.WithContext(ctx).Where("tenant_id IN ?", ids).Order(models.TenantDomainOrder).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("batch load tenant domains: %w", err)
		}
		out := make(map[uuid.UUID][]models.TenantDomain, len(ids))
		for _, d := range rows {
			out[d.TenantID] = append(out[d.TenantID], d)
		}
		return out, nil
	}
}

// DomainsOf loads a tenant's domains together with those of the tenants
// listed with it; a tenant loaded with its domains keeps them.
func (l *Loaders) DomainsOf(ctx context.Context, t *models.CustomerTenant) ([]models.TenantDomain, error) {
	if t.Domains != nil {
		return t.Domains, nil
	}
	all, err := l.TenantDomains.Load(ctx, t.ID)
	if all == nil && err == nil {
		all = []models.TenantDomain{}
	}
	return all, err
}

// eventRefs are the comment and the document an event refers to, in that
// order (uuid.Nil for none).
func eventRefs(e *models.ClaimEvent) []uuid.UUID {
	return []uuid.UUID{deref(e.CommentID), deref(e.DocumentID)}
}

func deref(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

// Load fetches one key; a missing row is nil.
func Load[T any](ctx context.Context, l *Keyed[*T], id uuid.UUID) (*T, error) {
	return l.Load(ctx, id)
}

// LoadPtr is Load for an optional key.
func LoadPtr[T any](ctx context.Context, l *Keyed[*T], id *uuid.UUID) (*T, error) {
	if id == nil {
		return nil, nil
	}
	return l.Load(ctx, *id)
}

type ctxKey struct{}

// For returns the operation's current loaders.
func For(ctx context.Context) *Loaders {
	s, _ := ctx.Value(ctxKey{}).(*scope)
	if s == nil {
		panic("loaders: the context carries no loaders; install them with WithScope")
	}
	return s.loaders()
}

// PrimeListed keeps the rows a claim list read with its page, so that the
// claims' relations resolve without a statement, and registers the page's
// claims as siblings, so that a child list asked for one of them is
// fetched for all of them at once.
func (l *Loaders) PrimeListed(page *claims.Listed) {
	for _, p := range page.Products {
		l.Products.Prime(p.ID, p)
	}
	for _, m := range page.Mpns {
		l.Mpns.Prime(m.ID, m)
	}
	for _, t := range page.Tenants {
		l.Tenants.Prime(t.ID, t)
	}
	for _, o := range page.Organizations {
		l.Organizations.Prime(o.ID, o)
	}
	ids := make([]uuid.UUID, len(page.Items))
	tenants := make([]uuid.UUID, len(page.Tenants))
	for i, t := range page.Tenants {
		tenants[i] = t.ID
	}
	var cases []uuid.UUID
	for i, c := range page.Items {
		ids[i] = c.ID
		if c.ArbitrationCaseID != nil {
			cases = append(cases, *c.ArbitrationCaseID)
		}
	}
	l.siblings.add(ids)
	l.siblings.add(cases)
	l.siblings.add(tenants)
}

// Listed registers rows a response lists together (a page of arbitration
// cases, say): a relation asked for one of them is loaded for all.
func (l *Loaders) Listed(ids []uuid.UUID) { l.siblings.add(ids) }
