package workflow

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/models"
	"cpor/storage"
)

// competition is what stands against a claim on its customer, product and
// activity: other organisations' open claims and another organisation's
// active association; and the claim's own organisation's active
// association, which its approval supersedes.
type competition struct {
	claims []models.Claim // ID and Status only: escalate reads each again as it locks it
	holder *models.Association
	own    *models.Association // ID only
}

func (c competition) none() bool { return len(c.claims) == 0 && c.holder == nil }

// competitor is one row of findCompetition's statement.
type competitor struct {
	Kind           string
	ID             uuid.UUID
	OrganizationID uuid.UUID
	Status         models.ClaimStatus
}

// findCompetition reads the competing claims and the key's active
// association (at most one: associations_one_active) in one statement. The
// caller holds the key's lock, under which every association of the key is
// written, so they cannot change before the transaction ends.
func findCompetition(db *gorm.DB, c *models.Claim) (competition, error) {
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

const arbitrationNotice = "Another partner has also claimed this customer association, so the claim is in arbitration. " +
	"A reviewer weighs each claim's most recent proof of execution; the review may take longer than the usual five business days. " +
	"You can add proof of execution and answer the reviewer in this thread."

// escalate fires escalate on the change's claim, which competition comp
// stands against, in the role by.
func (s *Service) escalate(cc *claimChange, comp competition, by Role) error {
	cc.comp, cc.compRead = comp, true
	return s.fireOn(cc, Escalate, by)
}

// checkEscalate puts the claim in the one open case of its customer,
// product and activity, opening it if there is none; a claim pulled in by
// another's escalation joins that one's case.
func (s *Service) checkEscalate(cc *claimChange) error {
	if cc.joining {
		return nil
	}
	if !cc.compRead {
		comp, err := findCompetition(cc.tx.DB, cc.claim)
		if err != nil {
			return err
		}
		cc.comp, cc.compRead = comp, true
	}
	cs, err := s.openCase(cc.change, cc.claim, cc.comp.holder)
	if err != nil {
		return err
	}
	cc.claim.ArbitrationCaseID = &cs.ID
	return nil
}

// afterEscalate posts the notice, and brings every competing claim under
// review into the case with the claim that opened or joined it.
func (s *Service) afterEscalate(cc *claimChange) error {
	if err := s.systemComment(cc.change, cc.claim, arbitrationNotice); err != nil {
		return err
	}
	if cc.joining {
		return nil
	}
	for i := range cc.comp.claims {
		other := &cc.comp.claims[i]
		if other.Status != models.UnderReview {
			continue // submitted claims join when their review starts; arbitrated ones are in the case
		}
		if err := storage.ForUpdate(cc.tx.DB).Where("id = ?", other.ID).Take(other).Error; err != nil {
			return fmt.Errorf("lock competing claim: %w", err)
		}
		if other.Status != models.UnderReview {
			continue
		}
		joining := cc.on(other, "Another partner organisation claims this association.")
		joining.joining, other.ArbitrationCaseID = true, cc.claim.ArbitrationCaseID
		if err := s.fireOn(joining, Escalate, RoleSystem); err != nil {
			return err
		}
	}
	return nil
}

// openCase returns the open case of the claim's customer, product and
// activity, opening one if there is none. The caller holds the key's lock.
func (s *Service) openCase(ch *change, c *models.Claim, holder *models.Association) (*models.ArbitrationCase, error) {
	var cs models.ArbitrationCase
	err := storage.ForUpdate(ch.tx.DB).
		Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND status = ?",
			c.CustomerTenantID, *c.ProductID, c.Activity, models.ArbitrationOpen).Take(&cs).Error
	switch {
	case err == nil:
		if cs.HolderAssociationID == nil && holder != nil {
			cs.HolderAssociationID = &holder.ID
			if err := ch.tx.Model(&cs).Update("holder_association_id", holder.ID).Error; err != nil {
				return nil, fmt.Errorf("record holder: %w", err)
			}
		}
		return &cs, nil
	case !storage.IsNotFound(err):
		return nil, fmt.Errorf("find arbitration case: %w", err)
	}
	cs = models.ArbitrationCase{
		ID: uuid.New(), CustomerTenantID: c.CustomerTenantID, ProductID: *c.ProductID, Activity: c.Activity,
		Status: models.ArbitrationOpen, OpenedAt: ch.now,
	}
	if holder != nil {
		cs.HolderAssociationID = &holder.ID
	}
	if err := ch.tx.Create(&cs).Error; err != nil {
		return nil, fmt.Errorf("open arbitration case: %w", err)
	}
	return &cs, nil
}
