package workflow

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
)

// NotFoundError is a store's answer for a row that is not there; the
// service turns it into the NOT_FOUND its caller sees, in its own words.
type NotFoundError struct {
	What string
	ID   uuid.UUID
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("no %s %s", e.What, e.ID) }

func isNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// caseStore is the SQL of arbitration cases, so that the workflow reads as
// rules. Every method works inside the caller's transaction (db).
type caseStore struct{}

// find reads a case without locking it.
func (caseStore) find(db *gorm.DB, id uuid.UUID) (*models.ArbitrationCase, error) {
	return takeCase(db.Where("id = ?", id), id)
}

// lock reads and locks a case; the caller holds its competition key.
func (caseStore) lock(db *gorm.DB, id uuid.UUID) (*models.ArbitrationCase, error) {
	return takeCase(storage.ForUpdate(db).Where("id = ?", id), id)
}

func takeCase(q *gorm.DB, id uuid.UUID) (*models.ArbitrationCase, error) {
	var cs models.ArbitrationCase
	if err := q.Take(&cs).Error; err != nil {
		if storage.IsNotFound(err) {
			return nil, &NotFoundError{What: "arbitration case", ID: id}
		}
		return nil, fmt.Errorf("read case %s: %w", id, err)
	}
	return &cs, nil
}

// openFor returns the open case of the claim's customer, product and
// activity, locked, opening one if there is none; a holder association
// met for the first time is recorded on it. The caller holds the key.
func (caseStore) openFor(db *gorm.DB, c *models.Claim, holder *models.Association, now time.Time) (*models.ArbitrationCase, error) {
	var cs models.ArbitrationCase
	err := storage.ForUpdate(db).Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND status = ?",
		c.CustomerTenantID, *c.ProductID, c.Activity, models.ArbitrationOpen).Take(&cs).Error
	switch {
	case err == nil:
		if cs.HolderAssociationID == nil && holder != nil {
			cs.HolderAssociationID = &holder.ID
			if err := db.Model(&cs).Update("holder_association_id", holder.ID).Error; err != nil {
				return nil, fmt.Errorf("record holder: %w", err)
			}
		}
		return &cs, nil
	case !storage.IsNotFound(err):
		return nil, fmt.Errorf("find arbitration case: %w", err)
	}
	cs = models.ArbitrationCase{
		ID: uuid.New(), CustomerTenantID: c.CustomerTenantID, ProductID: *c.ProductID, Activity: c.Activity,
		Status: models.ArbitrationOpen, OpenedAt: now,
	}
	if holder != nil {
		cs.HolderAssociationID = &holder.ID
	}
	if err := db.Create(&cs).Error; err != nil {
		return nil, fmt.Errorf("open arbitration case: %w", err)
	}
	return &cs, nil
}

// members locks the claims still in the case (in arbitration, or waiting
// for an answer from it), but the one excepted.
func (caseStore) members(db *gorm.DB, caseID uuid.UUID, except *uuid.UUID) ([]models.Claim, error) {
	q := storage.ForUpdate(db).Where("arbitration_case_id = ? AND (status = ? OR (status = ? AND resume_status = ?))",
		caseID, models.Arbitration, models.ActionRequired, models.Arbitration)
	if except != nil {
		q = q.Where("id <> ?", *except)
	}
	var out []models.Claim
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("lock case claims: %w", err)
	}
	return out, nil
}

// holder is the case's holder association while it is active; nil when the
// case challenges none or it has ended.
func (caseStore) holder(db *gorm.DB, cs *models.ArbitrationCase) (*models.Association, error) {
	if cs.HolderAssociationID == nil {
		return nil, nil
	}
	var a models.Association
	if err := db.Where("id = ?", *cs.HolderAssociationID).Take(&a).Error; err != nil {
		return nil, fmt.Errorf("load holder association: %w", err)
	}
	if !a.Active() {
		return nil, nil
	}
	return &a, nil
}

// write stores a case's decision.
func (caseStore) write(db *gorm.DB, cs *models.ArbitrationCase) error {
	err := db.Model(cs).Updates(map[string]any{
		"status": cs.Status, "winning_claim_id": cs.WinningClaimID, "resolution": cs.Resolution,
		"resolved_by": cs.ResolvedBy, "resolved_at": cs.ResolvedAt,
	}).Error
	if err != nil {
		return fmt.Errorf("write case: %w", err)
	}
	return nil
}

// hasParty reports whether a claim of the organisation is in the case, as
// a challenger or as the holder.
func (caseStore) hasParty(db *gorm.DB, org uuid.UUID, cs *models.ArbitrationCase) (bool, error) {
	var n int64
	q := db.Model(&models.Claim{}).Where("organization_id = ?", org).
		Where(db.Where("arbitration_case_id = ?", cs.ID).Or("id IN (?)",
			db.Model(&models.Association{}).Select("claim_id").Where("id = ?", cs.HolderAssociationID)))
	if err := q.Count(&n).Error; err != nil {
		return false, fmt.Errorf("check case party: %w", err)
	}
	return n > 0, nil
}

// competitor is one row of competition's statement.
type competitor struct {
	Kind           string
	ID             uuid.UUID
	OrganizationID uuid.UUID
	Status         models.ClaimStatus
}

// competition reads the competing claims and the key's active association
// (at most one: associations_one_active) in one statement. The caller
// holds the key's lock, under which every association of the key is
// written, so they cannot change before the transaction ends.
func (caseStore) competition(db *gorm.DB, c *models.Claim) (competition, error) {
	var comp competition
	if c.ProductID == nil {
		return comp, nil
	}
	key := []any{c.CustomerTenantID, *c.ProductID, c.Activity}
	var rows []competitor
	err := db.Raw(`SELECT 'claim' AS kind, id, organization_id, status, submitted_at AS sort_at FROM claims
		WHERE customer_tenant_id = ? AND product_id = ? AND activity = ? AND organization_id <> ? AND status IN ?
	UNION ALL
	SELECT 'association', id, organization_id, '', NULL FROM associations
		WHERE customer_tenant_id = ? AND product_id = ? AND activity = ? AND ended_at IS NULL
	ORDER BY kind, sort_at, id`,
		append(append(key, c.OrganizationID, models.OpenStatuses), key...)...).Scan(&rows).Error
	if err != nil {
		return comp, fmt.Errorf("find competition: %w", err)
	}
	for _, r := range rows {
		switch {
		case r.Kind == "claim":
			comp.claims = append(comp.claims, models.Claim{ID: r.ID, OrganizationID: r.OrganizationID, Status: r.Status})
		case r.OrganizationID == c.OrganizationID:
			comp.own = &models.Association{ID: r.ID, OrganizationID: r.OrganizationID}
		default:
			comp.holder = &models.Association{ID: r.ID, OrganizationID: r.OrganizationID}
		}
	}
	return comp, nil
}
