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
	"cpor/storage"
	"cpor/textrule"
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

// escalate moves the change's claim, and every competing claim under review,
// into the one open arbitration case of their customer, product and activity.
// actor nil means the system escalates.
func (s *Service) escalate(ch *change, comp competition, actor *auth.Identity, reason string) error {
	c := ch.claim
	cs, err := s.openCase(ch, c, comp.holder)
	if err != nil {
		return err
	}
	by := RoleSystem
	if actor != nil {
		by = RoleReviewer
	}
	c.ArbitrationCaseID = &cs.ID
	if err := s.move(ch, c, Escalate, by, actor, reason, nil); err != nil {
		return err
	}
	if err := s.systemComment(ch, c, arbitrationNotice); err != nil {
		return err
	}
	for i := range comp.claims {
		other := &comp.claims[i]
		if other.Status != models.UnderReview {
			continue // submitted claims join when their review starts; arbitrated ones are in the case
		}
		if err := storage.ForUpdate(ch.tx.DB).Where("id = ?", other.ID).Take(other).Error; err != nil {
			return fmt.Errorf("lock competing claim: %w", err)
		}
		other.ArbitrationCaseID = &cs.ID
		if err := s.move(ch, other, Escalate, RoleSystem, nil, "Another partner organisation claims this association.", nil); err != nil {
			return err
		}
		if err := s.systemComment(ch, other, arbitrationNotice); err != nil {
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
		Status: models.ArbitrationOpen, OpenedAt: storage.Now(),
	}
	if holder != nil {
		cs.HolderAssociationID = &holder.ID
	}
	if err := ch.tx.Create(&cs).Error; err != nil {
		return nil, fmt.Errorf("open arbitration case: %w", err)
	}
	return &cs, nil
}

// ResolveArbitration decides a case for one claim: a claim in the case is
// approved, or the holder's association stands. Every other claim in the
// case is rejected and a losing holder's association ends, all in one
// transaction.
func (s *Service) ResolveArbitration(ctx context.Context, caseID, winnerID uuid.UUID, reason string) (*models.ArbitrationCase, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequireReviewer(); err != nil {
		return nil, err
	}
	if reason, err = textrule.Reason.Clean(reason, "reason"); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "The reviewer resolved the arbitration case."
	}
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		var cs models.ArbitrationCase
		if err := tx.Where("id = ?", caseID).Take(&cs).Error; err != nil {
			if storage.IsNotFound(err) {
				return apperr.NotFoundf("caseId", "No such arbitration case.")
			}
			return fmt.Errorf("load case: %w", err)
		}
		if err := lockKey(tx, cs.CustomerTenantID, cs.ProductID, cs.Activity); err != nil {
			return err
		}
		// Read the case again under the key's lock: a resolution that
		// committed meanwhile is seen.
		if err := tx.Where("id = ?", caseID).Take(&cs).Error; err != nil {
			return fmt.Errorf("reload case: %w", err)
		}
		if cs.Status != models.ArbitrationOpen {
			return apperr.New(apperr.InvalidTransition, "caseId", "This arbitration case is already resolved.")
		}
		winner, err := claims.Load(tx.DB, id, winnerID, true)
		if err != nil {
			return err
		}
		ch := &change{tx: tx, id: id, claim: winner}
		member := winner.ArbitrationCaseID != nil && *winner.ArbitrationCaseID == cs.ID && winner.Status == models.Arbitration
		holder, err := isHolder(tx.DB, &cs, winner)
		if err != nil {
			return err
		}
		switch {
		case member:
			if err := s.move(ch, winner, Approve, RoleReviewer, id, reason, nil); err != nil {
				return err
			}
			if err := s.settleCase(ch, cs.ID, winner, reason); err != nil {
				return err
			}
			if err := s.associate(ch, winner); err != nil {
				return err
			}
		case holder:
			if err := s.settleCase(ch, cs.ID, winner, reason); err != nil {
				return err
			}
		default:
			return apperr.Invalidf("winningClaimId", "That claim is not part of this arbitration case; choose one of the case's claims.")
		}
		return s.log.Append(tx, ch.events...)
	})
	if err != nil {
		return nil, err
	}
	return s.Case(ctx, caseID)
}

func isHolder(db *gorm.DB, cs *models.ArbitrationCase, c *models.Claim) (bool, error) {
	if cs.HolderAssociationID == nil {
		return false, nil
	}
	var a models.Association
	if err := db.Where("id = ?", *cs.HolderAssociationID).Take(&a).Error; err != nil {
		return false, fmt.Errorf("load holder association: %w", err)
	}
	return a.ClaimID == c.ID && a.Active(), nil
}

// settleCase closes a case in favour of winner: the case's other open
// claims are rejected and a holder association of another claim ends.
func (s *Service) settleCase(ch *change, caseID uuid.UUID, winner *models.Claim, reason string) error {
	var cs models.ArbitrationCase
	if err := storage.ForUpdate(ch.tx.DB).Where("id = ?", caseID).Take(&cs).Error; err != nil {
		return fmt.Errorf("lock case: %w", err)
	}
	if cs.Status != models.ArbitrationOpen {
		return apperr.New(apperr.InvalidTransition, "caseId", "This arbitration case is already resolved.")
	}
	var losers []models.Claim
	if err := storage.ForUpdate(ch.tx.DB).Where("arbitration_case_id = ? AND status = ? AND id <> ?",
		caseID, models.Arbitration, winner.ID).Order("id").Find(&losers).Error; err != nil {
		return fmt.Errorf("lock case claims: %w", err)
	}
	for i := range losers {
		l := &losers[i]
		if err := s.move(ch, l, Reject, RoleReviewer, ch.id, "Arbitration decided for another claim: "+reason, nil); err != nil {
			return err
		}
		if err := s.systemComment(ch, l, "The arbitration case was decided for another partner's claim, so this claim was rejected. Reason: "+reason); err != nil {
			return err
		}
	}
	if cs.HolderAssociationID != nil {
		if err := s.endAssociation(ch, *cs.HolderAssociationID, winner.ID, models.EndArbitrationLost,
			"The association ended: arbitration decided for another partner's claim. "+reason); err != nil {
			return err
		}
	}
	return s.resolveCase(ch, &cs, &winner.ID, reason)
}

// closeCaseIfDecided resolves a case none of whose claims is still open:
// the holder, if any, keeps its association.
func (s *Service) closeCaseIfDecided(ch *change, caseID uuid.UUID) error {
	var open int64
	if err := ch.tx.Model(&models.Claim{}).Where("arbitration_case_id = ? AND status = ?", caseID, models.Arbitration).
		Count(&open).Error; err != nil {
		return fmt.Errorf("count open case claims: %w", err)
	}
	if open > 0 {
		return nil
	}
	var cs models.ArbitrationCase
	if err := storage.ForUpdate(ch.tx.DB).Where("id = ?", caseID).Take(&cs).Error; err != nil {
		return fmt.Errorf("lock case: %w", err)
	}
	if cs.Status != models.ArbitrationOpen {
		return nil
	}
	var winner *uuid.UUID
	if cs.HolderAssociationID != nil {
		var a models.Association
		if err := ch.tx.Where("id = ?", *cs.HolderAssociationID).Take(&a).Error; err != nil {
			return fmt.Errorf("load holder association: %w", err)
		}
		if a.Active() {
			winner = &a.ClaimID
		}
	}
	return s.resolveCase(ch, &cs, winner, "Every challenging claim was rejected.")
}

func (s *Service) resolveCase(ch *change, cs *models.ArbitrationCase, winner *uuid.UUID, reason string) error {
	now := storage.Now()
	err := ch.tx.Model(cs).Updates(map[string]any{
		"status": models.ArbitrationResolved, "winning_claim_id": winner, "resolution": reason,
		"resolved_by": ch.id.UserID, "resolved_at": now,
	}).Error
	if err != nil {
		return fmt.Errorf("resolve case: %w", err)
	}
	return nil
}

// associate records the approved claim's partner-of-record association. An
// earlier association of the same organisation on the same customer,
// product and activity (another subscription, say) is superseded by it.
func (s *Service) associate(ch *change, c *models.Claim) error {
	var active []models.Association
	if err := storage.ForUpdate(ch.tx.DB).Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND ended_at IS NULL",
		c.CustomerTenantID, *c.ProductID, c.Activity).Find(&active).Error; err != nil {
		return fmt.Errorf("find active association: %w", err)
	}
	for _, a := range active {
		if a.OrganizationID != c.OrganizationID {
			return apperr.New(apperr.InvalidTransition, "claimId",
				"Another partner organisation holds this association; escalate the claim to arbitration and resolve the case.")
		}
	}
	return s.associateOver(ch, c, active)
}

// associateOver is associate when the key's active associations are known
// (read under the key's lock in this transaction) and all are the claim's
// organisation's: they end, superseded, and the claim's begins.
func (s *Service) associateOver(ch *change, c *models.Claim, own []models.Association) error {
	for _, a := range own {
		if err := s.endAssociation(ch, a.ID, c.ID, models.EndSuperseded, "Superseded by a newer approved claim of your organisation."); err != nil {
			return err
		}
	}
	a := models.Association{
		ID: uuid.New(), ClaimID: c.ID, OrganizationID: c.OrganizationID, CustomerTenantID: c.CustomerTenantID,
		ProductID: *c.ProductID, SubscriptionID: c.SubscriptionID, Activity: c.Activity, StartedAt: storage.Now(),
	}
	if err := ch.tx.Create(&a).Error; err != nil {
		if storage.IsUniqueViolation(err, "associations_one_active") {
			return apperr.New(apperr.InvalidTransition, "claimId",
				"Another association became active for this customer, product and activity; reload the claim.")
		}
		return fmt.Errorf("create association: %w", err)
	}
	return nil
}

// endAssociation ends an active association, unless it belongs to the claim
// keep, recording the end in its claim's history with a system comment.
func (s *Service) endAssociation(ch *change, assocID, keep uuid.UUID, why models.AssociationEndReason, notice string) error {
	var a models.Association
	if err := storage.ForUpdate(ch.tx.DB).Where("id = ?", assocID).Take(&a).Error; err != nil {
		return fmt.Errorf("lock association: %w", err)
	}
	if !a.Active() || a.ClaimID == keep {
		return nil
	}
	now := storage.Now()
	if err := ch.tx.Model(&a).Updates(map[string]any{"ended_at": now, "end_reason": why}).Error; err != nil {
		return fmt.Errorf("end association: %w", err)
	}
	var c models.Claim
	if err := ch.tx.Where("id = ?", a.ClaimID).Take(&c).Error; err != nil {
		return fmt.Errorf("load association's claim: %w", err)
	}
	ev := claims.EventFor(&c, ch.id, models.EventAssociationEnded)
	ev.Reason = string(why)
	ch.events = append(ch.events, ev)
	return s.systemComment(ch, &c, notice)
}

// DeclineAssociation lets a customer's admin end an association on its
// tenant at any time.
func (s *Service) DeclineAssociation(ctx context.Context, assocID uuid.UUID, reason string) (*models.Association, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !id.IsCustomerAdmin() {
		return nil, apperr.Forbiddenf("Only an admin of the customer's tenant can decline an association.")
	}
	if reason, err = textrule.Reason.Clean(reason, "reason"); err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		var a models.Association
		err := tx.Where("id = ? AND customer_tenant_id = ?", assocID, id.TenantID).Take(&a).Error
		if storage.IsNotFound(err) {
			return apperr.NotFoundf("associationId", "No such association on your tenant.")
		}
		if err != nil {
			return fmt.Errorf("load association: %w", err)
		}
		if err := lockKey(tx, a.CustomerTenantID, a.ProductID, a.Activity); err != nil {
			return err
		}
		if err := storage.ForUpdate(tx.DB).Where("id = ?", assocID).Take(&a).Error; err != nil {
			return fmt.Errorf("lock association: %w", err)
		}
		if !a.Active() {
			return apperr.New(apperr.InvalidTransition, "associationId", "This association has already ended.")
		}
		ch := &change{tx: tx, id: id}
		notice := "The customer declined this association, so it has ended."
		if reason != "" {
			notice += " The customer said: " + reason
		}
		if err := s.endAssociation(ch, a.ID, uuid.Nil, models.EndCustomerDecline, notice); err != nil {
			return err
		}
		return s.log.Append(tx, ch.events...)
	})
	if err != nil {
		return nil, err
	}
	var a models.Association
	return &a, s.db.WithContext(ctx).Where("id = ?", assocID).Take(&a).Error
}
