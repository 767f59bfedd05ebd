package claims

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"cpor/models"
)

// ExportRow is one claim as the CSV export writes it: the claim with the
// names of the rows it refers to.
type ExportRow struct {
	ID               uuid.UUID
	Name             string
	Status           models.ClaimStatus
	SolutionArea     models.SolutionArea
	Activity         models.Activity
	Organization     string
	CustomerTenantID uuid.UUID
	CustomerDomain   string
	CustomerName     string
	Product          sql.NullString
	SubscriptionID   uuid.NullUUID
	SubmittedAt      sql.NullTime
	DecidedAt        sql.NullTime
	UpdatedAt        time.Time
	DecisionReason   string
}

// exportColumns are read in ExportRow's field order (scan).
const exportColumns = `claims.id, claims.name, claims.status, claims.solution_area, claims.activity,
	export_org.name, claims.customer_tenant_id, claims.customer_domain, export_tenant.display_name,
	export_product.name, claims.subscription_id, claims.submitted_at, claims.decided_at,
	claims.updated_at, claims.decision_reason`

func (r *ExportRow) scan(rows *sql.Rows) error {
	return rows.Scan(&r.ID, &r.Name, &r.Status, &r.SolutionArea, &r.Activity,
		&r.Organization, &r.CustomerTenantID, &r.CustomerDomain, &r.CustomerName,
		&r.Product, &r.SubscriptionID, &r.SubmittedAt, &r.DecidedAt,
		&r.UpdatedAt, &r.DecisionReason)
}

// Export reads every claim the caller may see that passes the filter, in
// the order given, and hands them to each one at a time: the claims come
// from one statement's cursor, never all at once, so memory stays flat
// whatever the count. It uses the list's visibility and filter (visible),
// so the export shows what the claims query shows. The row passed to each
// is reused; each must not keep it. An error from each stops the export
// and is returned.
func (s *Service) Export(ctx context.Context, f Filter, order Order, each func(*ExportRow) error) error {
	q, err := s.visible(ctx, f)
	if err != nil {
		return err
	}
	ks, _ := keysetOf(order)
	rows, err := q.Select(exportColumns).
		Joins("JOIN partner_organizations AS export_org ON export_org.id = claims.organization_id").
		Joins("JOIN customer_tenants AS export_tenant ON export_tenant.id = claims.customer_tenant_id").
		Joins("LEFT JOIN products AS export_product ON export_product.id = claims.product_id").
		Order(ks.OrderBy()).Rows()
	if err != nil {
		return fmt.Errorf("export claims: %w", err)
	}
	defer rows.Close()
	var row ExportRow
	for rows.Next() {
		if err := row.scan(rows); err != nil {
			return fmt.Errorf("export claims: read row: %w", err)
		}
		if err := each(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export claims: %w", err)
	}
	return nil
}
