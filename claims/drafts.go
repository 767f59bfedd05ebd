package claims

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/catalog"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
	"cpor/textrule"
)

// ContactInput is a contact as the form sends it.
type ContactInput struct {
	Name  string
	Title string
	Email string
}

// DraftInput is what a partner fills in. On update, nil fields stay as they
// are; an empty SubscriptionID clears it.
type DraftInput struct {
	SolutionArea     *models.SolutionArea
	Activity         *models.Activity
	CustomerTenantID *string
	CustomerDomain   *string
	Name             *string
	ProductID        *uuid.UUID
	SubscriptionID   *string
	MpnID            *uuid.UUID
	CustomerContact  *ContactInput
	PartnerContact   *ContactInput
	Notes            *string
}

// Create saves a new draft claim for the caller's organisation. The checks
// of docs/product.md §4 run on what the draft states; any violation saves
// nothing and is returned, so the form shows it early.
func (s *Service) Create(ctx context.Context, in DraftInput) (*models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequirePartnerAdmin(); err != nil {
		return nil, err
	}
	var missing apperr.List
	if in.SolutionArea == nil {
		missing = append(missing, apperr.Invalidf("solutionArea", "Choose the solution area."))
	}
	if in.Activity == nil {
		missing = append(missing, apperr.Invalidf("activity", "Choose the activity."))
	}
	if in.CustomerTenantID == nil {
		missing = append(missing, apperr.Invalidf("customerTenantId", "Enter the customer's tenant ID."))
	}
	if in.CustomerDomain == nil {
		missing = append(missing, apperr.Invalidf("customerDomain", "Enter the customer's domain."))
	}
	if err := missing.Err(); err != nil {
		return nil, err
	}
	now := storage.Now()
	c := &models.Claim{
		ID:             uuid.New(),
		OrganizationID: id.OrganizationID,
		Status:         models.Draft,
		Version:        1,
		CreatedBy:      id.UserID,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := s.saveDraft(ctx, id, c, in, nil); err != nil {
		return nil, err
	}
	return c, nil
}

// Update changes a draft. Only drafts can be edited (INVALID_TRANSITION
// otherwise); expectedVersion guards against overwriting someone else's edit.
func (s *Service) Update(ctx context.Context, claimID uuid.UUID, expectedVersion *int, in DraftInput) (*models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequirePartnerAdmin(); err != nil {
		return nil, err
	}
	var out *models.Claim
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		c, err := Load(tx.DB, id, claimID, true)
		if err != nil {
			return err
		}
		if err := checkVersion(c, expectedVersion); err != nil {
			return err
		}
		if c.Status != models.Draft {
			return apperr.New(apperr.InvalidTransition, "claimId",
				"Only drafts can be edited; this claim is %s. To change the activity or MPN, reclaim it.", c.Status)
		}
		c.Version++
		c.UpdatedAt = storage.Now()
		if err := s.applyDraft(ctx, tx, c, in); err != nil {
			return err
		}
		if err := tx.Save(c).Error; err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		out = c
		return s.log.Append(tx, EventFor(c, id, models.EventUpdated))
	})
	return out, err
}

// Reclaim starts a new draft from an existing claim, for a partner who chose
// the wrong activity or MPN. The old claim is not edited; the new one links
// to it and the old one's history records the reclaim.
func (s *Service) Reclaim(ctx context.Context, claimID uuid.UUID, activity *models.Activity, mpnID *uuid.UUID) (*models.Claim, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequirePartnerAdmin(); err != nil {
		return nil, err
	}
	old, err := Load(s.db.WithContext(ctx), id, claimID, false)
	if err != nil {
		return nil, err
	}
	if old.Status == models.Draft {
		return nil, apperr.New(apperr.InvalidTransition, "claimId", "This claim is still a draft; edit it instead of reclaiming it.")
	}
	now := storage.Now()
	c := &models.Claim{
		ID:               uuid.New(),
		OrganizationID:   old.OrganizationID,
		SolutionArea:     old.SolutionArea,
		Activity:         old.Activity,
		CustomerTenantID: old.CustomerTenantID,
		CustomerDomain:   old.CustomerDomain,
		Name:             old.Name,
		ProductID:        old.ProductID,
		SubscriptionID:   old.SubscriptionID,
		MpnID:            old.MpnID,
		CustomerContact:  old.CustomerContact,
		PartnerContact:   old.PartnerContact,
		Notes:            old.Notes,
		Status:           models.Draft,
		Version:          1,
		ReclaimedFromID:  &old.ID,
		CreatedBy:        id.UserID,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	in := DraftInput{Activity: activity, MpnID: mpnID}
	if err := s.saveDraft(ctx, id, c, in, old); err != nil {
		return nil, err
	}
	return c, nil
}

// saveDraft applies the input to a new claim and inserts it with its
// CREATED event (and, for a reclaim, a RECLAIMED event on the old claim).
func (s *Service) saveDraft(ctx context.Context, id *auth.Identity, c *models.Claim, in DraftInput, reclaimedFrom *models.Claim) error {
	return storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		if reclaimedFrom != nil {
			// The old claim's events are written under its row lock, as
			// every claim's are (see AddComment).
			if _, err := Load(tx.DB, id, reclaimedFrom.ID, true); err != nil {
				return err
			}
		}
		if err := s.applyDraft(ctx, tx, c, in); err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("create draft: %w", err)
		}
		if s.onDraftCreated != nil {
			if err := s.onDraftCreated(tx, c); err != nil {
				return err
			}
		}
		created := EventFor(c, id, models.EventCreated)
		evs := []*models.ClaimEvent{created}
		if reclaimedFrom != nil {
			created.Reason = "Reclaimed from claim " + relay.UUIDGlobalID(relay.TypeClaim, reclaimedFrom.ID)
			old := EventFor(reclaimedFrom, id, models.EventReclaimed)
			old.Reason = "Reclaimed as claim " + relay.UUIDGlobalID(relay.TypeClaim, c.ID)
			evs = append(evs, old)
		}
		return s.log.Append(tx, evs...)
	})
}

// applyDraft validates the input, copies it onto the claim and runs the
// checks that the draft's data allows.
func (s *Service) applyDraft(ctx context.Context, tx *storage.Tx, c *models.Claim, in DraftInput) error {
	if err := copyInput(c, in); err != nil {
		return err
	}
	problems, err := catalog.Check(ctx, tx.DB, Facts(c))
	if err != nil {
		return err
	}
	return problems.Err()
}

// copyInput validates the input's form (GUIDs, e-mail addresses, lengths,
// enums) and copies it onto the claim, reporting every malformed field.
func copyInput(c *models.Claim, in DraftInput) error {
	var errs apperr.List
	if in.SolutionArea != nil {
		if !models.Contains(models.SolutionAreas, *in.SolutionArea) {
			errs.Add(apperr.Invalidf("solutionArea", "Unknown solution area %s.", apperr.Quote(string(*in.SolutionArea))))
		}
		c.SolutionArea = *in.SolutionArea
	}
	if in.Activity != nil {
		if !models.Contains(models.Activities, *in.Activity) {
			errs.Add(apperr.Invalidf("activity", "Unknown activity %s.", apperr.Quote(string(*in.Activity))))
		}
		c.Activity = *in.Activity
	}
	if in.CustomerTenantID != nil {
		t, err := relay.ParseGUID(*in.CustomerTenantID, "customerTenantId", "tenant ID")
		errs.Add(err)
		c.CustomerTenantID = t
	}
	if in.CustomerDomain != nil {
		d, err := catalog.NormalizeDomain(*in.CustomerDomain)
		errs.Add(err)
		c.CustomerDomain = d
	}
	if in.Name != nil {
		// One line like any other name: it is shown in lists.
		n, err := textrule.Name.Clean(*in.Name, "name")
		errs.Add(err)
		c.Name = n
	}
	if in.ProductID != nil {
		c.ProductID = in.ProductID
	}
	if in.MpnID != nil {
		c.MpnID = in.MpnID
	}
	if in.SubscriptionID != nil {
		sub, err := ParseSubscriptionID(*in.SubscriptionID)
		errs.Add(err)
		c.SubscriptionID = sub
	}
	if in.CustomerContact != nil {
		cc, err := contact(*in.CustomerContact, "customerContact", true)
		errs.Add(err)
		c.CustomerContact = models.CustomerContact(cc)
	}
	if in.PartnerContact != nil {
		pc, err := contact(*in.PartnerContact, "partnerContact", false)
		errs.Add(err)
		c.PartnerContact = models.PartnerContact{Name: pc.Name, Email: pc.Email}
	}
	if in.Notes != nil {
		n, err := textrule.Notes.Clean(*in.Notes, "notes")
		errs.Add(err)
		c.Notes = n
	}
	return errs.Err()
}

// ParseSubscriptionID reads a subscription ID as typed; empty clears it.
// Something that is not a GUID is INVALID_SUBSCRIPTION_ID, as docs/product.md §4.2 says.
func ParseSubscriptionID(raw string) (*uuid.UUID, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := relay.ParseGUID(raw, "subscriptionId", "subscription ID")
	if err != nil {
		return nil, apperr.New(apperr.InvalidSubscriptionID, "subscriptionId",
			"%s is not a subscription ID; a subscription ID is a GUID such as 8c6d5e2a-1b3f-4a5c-9d7e-0f1a2b3c4d5e, shown with the subscription in the customer's admin center.", apperr.Quote(raw))
	}
	return &u, nil
}

func contact(in ContactInput, field string, withTitle bool) (models.CustomerContact, error) {
	var errs apperr.List
	name, err := textrule.Name.Clean(in.Name, field+".name")
	errs.Add(err)
	title := ""
	if withTitle {
		title, err = textrule.Name.Clean(in.Title, field+".title")
		errs.Add(err)
	}
	email := ""
	if in.Email != "" {
		email, err = NormalizeEmail(in.Email, field+".email")
		errs.Add(err)
	}
	return models.CustomerContact{Name: name, Title: title, Email: email}, errs.Err()
}

// Facts states a claim for the catalog checks.
func Facts(c *models.Claim) catalog.Facts {
	return catalog.Facts{
		ClaimID:        c.ID,
		OrganizationID: c.OrganizationID,
		SolutionArea:   c.SolutionArea,
		Activity:       c.Activity,
		TenantID:       c.CustomerTenantID,
		Domain:         c.CustomerDomain,
		ProductID:      c.ProductID,
		SubscriptionID: c.SubscriptionID,
		MpnID:          c.MpnID,
	}
}

// Incomplete lists what a claim still lacks to be submitted.
func Incomplete(c *models.Claim) apperr.List {
	var l apperr.List
	need := func(ok bool, field, msg string) {
		if !ok {
			l = append(l, apperr.Invalidf(field, "%s", msg))
		}
	}
	need(c.MpnID != nil, "mpnId", "Choose the MPN the claim is for.")
	need(c.ProductID != nil, "productId", "Choose the product or workload you claim.")
	need(c.SolutionArea != models.BusinessApplications || c.SubscriptionID != nil, "subscriptionId",
		"Enter the subscription ID: Business Applications claims name the customer's subscription.")
	need(c.CustomerContact.Name != "", "customerContact.name", "Name the customer's contact.")
	need(c.CustomerContact.Email != "", "customerContact.email", "Give the customer contact's e-mail address.")
	need(c.PartnerContact.Name != "", "partnerContact.name", "Name your organisation's contact.")
	need(c.PartnerContact.Email != "", "partnerContact.email", "Give your contact's e-mail address.")
	return l
}
