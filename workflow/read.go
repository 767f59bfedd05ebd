package workflow

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/claims"
	"cpor/models"
	"cpor/relay"
)

// Case returns an arbitration case: reviewers see every case, a partner
// admin the cases its organisation's claims are in (without the other
// organisations' claims, see CaseClaims). Any other is NOT_FOUND.
func (s *Service) Case(ctx context.Context, caseID uuid.UUID) (*models.ArbitrationCase, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	cs, err := s.caseRows.find(db, caseID)
	if err == nil && !id.IsReviewer() {
		err = s.requireCaseParty(db, id, cs)
	}
	if isNotFound(err) {
		return nil, apperr.NotFoundf("caseId", "No such arbitration case.")
	}
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// requireCaseParty fails unless a claim of the caller's organisation is in
// the case, as a challenger or as the holder.
func (s *Service) requireCaseParty(db *gorm.DB, id *auth.Identity, cs *models.ArbitrationCase) error {
	if err := id.RequirePartnerAdmin(); err != nil {
		return err
	}
	party, err := s.caseRows.hasParty(db, id.OrganizationID, cs)
	if err == nil && !party {
		err = &NotFoundError{What: "arbitration case", ID: cs.ID}
	}
	return err
}

// CaseClaims lists the claims of a case the caller may see: every one for a
// reviewer, only its own organisation's for a partner. The holder's claim
// comes first.
func (s *Service) CaseClaims(ctx context.Context, cs *models.ArbitrationCase) ([]models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	byCase, err := ClaimsOfCases(s.db.WithContext(ctx), []uuid.UUID{cs.ID})
	if err != nil {
		return nil, err
	}
	return VisibleClaims(id, byCase[cs.ID]), nil
}

// VisibleClaims keeps the claims the caller may read, in order.
func VisibleClaims(id *auth.Identity, all []models.Claim) []models.Claim {
	visible := make([]models.Claim, 0, len(all))
	for _, c := range all {
		if claims.CanRead(id, &c) {
			visible = append(visible, c)
		}
	}
	return visible
}

// caseClaim is a claim of a case, the holder's or a challenger's.
type caseClaim struct {
	models.Claim
	CaseID uuid.UUID
}

// ClaimsOfCases reads the claims of each case, whoever may see them, in one
// statement: first the claim whose association the case challenges, then
// the challengers in the order they were submitted.
func ClaimsOfCases(db *gorm.DB, caseIDs []uuid.UUID) (map[uuid.UUID][]models.Claim, error) {
	var rows []caseClaim
	err := db.Table("arbitration_cases").
		Select("claims.*, arbitration_cases.id AS case_id, "+
			"CASE WHEN claims.arbitration_case_id = arbitration_cases.id THEN 1 ELSE 0 END AS challenger").
		Joins("JOIN claims ON claims.arbitration_case_id = arbitration_cases.id OR claims.id IN "+
			"(SELECT claim_id FROM associations WHERE associations.id = arbitration_cases.holder_association_id)").
		Where("arbitration_cases.id IN ?", caseIDs).
		Order("case_id, challenger, claims.submitted_at, claims.id").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load the claims of %d cases: %w", len(caseIDs), err)
	}
	out := make(map[uuid.UUID][]models.Claim, len(caseIDs))
	for _, r := range rows {
		out[r.CaseID] = append(out[r.CaseID], r.Claim)
	}
	return out, nil
}

// Cases pages through arbitration cases for reviewers, oldest first.
func (s *Service) Cases(ctx context.Context, status *models.ArbitrationStatus, args relay.Args) (*relay.Connection[models.ArbitrationCase], error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequireReviewer(); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&models.ArbitrationCase{})
	if status != nil {
		q = q.Where("status = ?", *status)
	}
	return relay.NewConnection(q, relay.Keyset{TimeColumn: "opened_at", KeyColumn: "id"}, args,
		func(c *models.ArbitrationCase) relay.Cursor {
			return relay.Cursor{Time: c.OpenedAt, Key: c.ID.String()}
		})
}

// AssociationFilter narrows an association list.
type AssociationFilter struct {
	ActiveOnly bool
	TenantID   *uuid.UUID
}

// Associations pages through partner-of-record associations: a customer
// admin sees its tenant's, a partner admin its organisation's, a reviewer
// all; newest first.
func (s *Service) Associations(ctx context.Context, f AssociationFilter, args relay.Args) (*relay.Connection[models.Association], error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&models.Association{})
	switch {
	case id.IsReviewer():
	case id.IsCustomerAdmin():
		q = q.Where("customer_tenant_id = ?", id.TenantID)
	case id.IsPartnerAdmin():
		q = q.Where("organization_id = ?", id.OrganizationID)
	default:
		return nil, apperr.Forbiddenf("Only partner admins, customer admins and reviewers can see associations.")
	}
	if f.ActiveOnly {
		q = q.Where("ended_at IS NULL")
	}
	if f.TenantID != nil {
		q = q.Where("customer_tenant_id = ?", *f.TenantID)
	}
	return relay.NewConnection(q, relay.Keyset{TimeColumn: "started_at", KeyColumn: "id", Desc: true}, args,
		func(a *models.Association) relay.Cursor { return relay.Cursor{Time: a.StartedAt, Key: a.ID.String()} })
}

// Association returns one association the caller may see.
func (s *Service) Association(ctx context.Context, assocID uuid.UUID) (*models.Association, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.associationRows.owned(s.db.WithContext(ctx), assocID, nil, nil)
	if isNotFound(err) || (err == nil && !canSeeAssociation(id, a)) {
		return nil, apperr.NotFoundf("associationId", "No such association.")
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func canSeeAssociation(id *auth.Identity, a *models.Association) bool {
	return id.CanSeeOrganisation(a.OrganizationID) || (id.IsCustomerAdmin() && id.TenantID == a.CustomerTenantID)
}
