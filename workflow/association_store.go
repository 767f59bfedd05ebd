package workflow

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
)

// associationStore is the SQL of partner-of-record associations. Every
// method works inside the caller's transaction (db).
type associationStore struct{}

// lock reads and locks an association; the caller holds its key.
func (associationStore) lock(db *gorm.DB, id uuid.UUID) (*models.Association, error) {
	return takeAssociation(storage.ForUpdate(db).Where("id = ?", id), id)
}

// owned reads, without locking, an association on the tenant or of the
// organisation given (the one who may end it); with neither, any.
func (associationStore) owned(db *gorm.DB, id uuid.UUID, tenant, org *uuid.UUID) (*models.Association, error) {
	q := db.Where("id = ?", id)
	switch {
	case tenant != nil:
		q = q.Where("customer_tenant_id = ?", *tenant)
	case org != nil:
		q = q.Where("organization_id = ?", *org)
	}
	return takeAssociation(q, id)
}

func takeAssociation(q *gorm.DB, id uuid.UUID) (*models.Association, error) {
	var a models.Association
	if err := q.Take(&a).Error; err != nil {
		if storage.IsNotFound(err) {
			return nil, &NotFoundError{What: "association", ID: id}
		}
		return nil, fmt.Errorf("read association %s: %w", id, err)
	}
	return &a, nil
}

// activeOnKey locks the active associations of the claim's customer,
// product and activity (at most one); the caller holds the key.
func (associationStore) activeOnKey(db *gorm.DB, c *models.Claim) ([]models.Association, error) {
	var active []models.Association
	if err := storage.ForUpdate(db).Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND ended_at IS NULL",
		c.CustomerTenantID, *c.ProductID, c.Activity).Find(&active).Error; err != nil {
		return nil, fmt.Errorf("find active association: %w", err)
	}
	return active, nil
}

// create inserts a new association; a second active one on its key is
// errOneActive (the unique index associations_one_active says so).
func (associationStore) create(db *gorm.DB, a *models.Association) error {
	if err := db.Create(a).Error; err != nil {
		if storage.IsUniqueViolation(err, "associations_one_active") {
			return errOneActive
		}
		return fmt.Errorf("create association: %w", err)
	}
	return nil
}

// errOneActive is the database refusing a second active association on a
// customer, product and activity.
var errOneActive = fmt.Errorf("another association is active on the key")

// end stores an association's end.
func (associationStore) end(db *gorm.DB, a *models.Association) error {
	if err := db.Model(a).Updates(map[string]any{"ended_at": a.EndedAt, "end_reason": a.EndReason}).Error; err != nil {
		return fmt.Errorf("end association: %w", err)
	}
	return nil
}

// claimOf reads the claim an association records.
func (associationStore) claimOf(db *gorm.DB, a *models.Association) (*models.Claim, error) {
	var c models.Claim
	if err := db.Where("id = ?", a.ClaimID).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("load association's claim: %w", err)
	}
	return &c, nil
}
