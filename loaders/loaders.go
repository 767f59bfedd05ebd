// Package loaders batches the lookups a GraphQL response makes per row
// (a claim's product, organisation, MPN, tenant, association …) into one
// query per kind and request, with vikstrous/dataloadgen.
package loaders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"
	"gorm.io/gorm"

	"cpor/models"
)

// Loaders are one request's batch loaders. A missing row loads as nil.
type Loaders struct {
	Products         *dataloadgen.Loader[uuid.UUID, *models.Product]
	Organizations    *dataloadgen.Loader[uuid.UUID, *models.PartnerOrganization]
	Mpns             *dataloadgen.Loader[uuid.UUID, *models.Mpn]
	Tenants          *dataloadgen.Loader[uuid.UUID, *models.CustomerTenant]
	Claims           *dataloadgen.Loader[uuid.UUID, *models.Claim]
	Cases            *dataloadgen.Loader[uuid.UUID, *models.ArbitrationCase]
	Associations     *dataloadgen.Loader[uuid.UUID, *models.Association]
	ClaimAssociation *dataloadgen.Loader[uuid.UUID, *models.Association]
	Comments         *dataloadgen.Loader[uuid.UUID, *models.Comment]
	Documents        *dataloadgen.Loader[uuid.UUID, *models.Document]
}

// New returns fresh loaders reading from db.
func New(db *gorm.DB) *Loaders {
	return &Loaders{
		Products:      byID[models.Product](db, "id", func(p *models.Product) uuid.UUID { return p.ID }),
		Organizations: byID[models.PartnerOrganization](db, "id", func(o *models.PartnerOrganization) uuid.UUID { return o.ID }),
		Mpns:          byID[models.Mpn](db, "id", func(m *models.Mpn) uuid.UUID { return m.ID }),
		Tenants:       tenants(db),
		Claims:        byID[models.Claim](db, "id", func(c *models.Claim) uuid.UUID { return c.ID }),
		Cases:         byID[models.ArbitrationCase](db, "id", func(c *models.ArbitrationCase) uuid.UUID { return c.ID }),
		Associations:  byID[models.Association](db, "id", func(a *models.Association) uuid.UUID { return a.ID }),
		// A claim has at most one association (claim_id is unique).
		ClaimAssociation: byID[models.Association](db, "claim_id", func(a *models.Association) uuid.UUID { return a.ClaimID }),
		Comments:         byID[models.Comment](db, "id", func(c *models.Comment) uuid.UUID { return c.ID }),
		Documents:        byID[models.Document](db, "id", func(d *models.Document) uuid.UUID { return d.ID }),
	}
}

const wait = 2 * time.Millisecond

func byID[T any](db *gorm.DB, column string, key func(*T) uuid.UUID) *dataloadgen.Loader[uuid.UUID, *T] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*T, error) {
		var rows []T
		if err := db.WithContext(ctx).Where(column+" IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("batch load by %s: %w", column, err)
		}
		out := make(map[uuid.UUID]*T, len(rows))
		for i := range rows {
			out[key(&rows[i])] = &rows[i]
		}
		return out, nil
	}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(500))
}

func tenants(db *gorm.DB) *dataloadgen.Loader[uuid.UUID, *models.CustomerTenant] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*models.CustomerTenant, error) {
		var rows []models.CustomerTenant
		err := db.WithContext(ctx).Preload("Domains", func(db *gorm.DB) *gorm.DB {
			return db.Order("is_initial DESC, domain")
		}).Where("id IN ?", ids).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("batch load tenants: %w", err)
		}
		out := make(map[uuid.UUID]*models.CustomerTenant, len(rows))
		for i := range rows {
			out[rows[i].ID] = &rows[i]
		}
		return out, nil
	}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(500))
}

// Load fetches one key, turning "not found" into nil.
func Load[T any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, *T], id uuid.UUID) (*T, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// LoadPtr is Load for an optional key.
func LoadPtr[T any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, *T], id *uuid.UUID) (*T, error) {
	if id == nil {
		return nil, nil
	}
	return Load(ctx, l, *id)
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
