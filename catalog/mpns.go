package catalog

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
)

// Mpns lists the caller's organisation's MPNs. Partner types are loaded with
// the rows but the API never shows them.
func (s *Service) Mpns(ctx context.Context) ([]models.Mpn, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequirePartnerAdmin(); err != nil {
		return nil, err
	}
	return s.OrganizationMpns(ctx, id.OrganizationID)
}

// OrganizationMpns lists an organisation's MPNs for its admins and reviewers.
func (s *Service) OrganizationMpns(ctx context.Context, orgID uuid.UUID) ([]models.Mpn, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !id.CanSeeOrganisation(orgID) {
		return nil, apperr.Forbiddenf("You can see only your own organisation's MPNs.")
	}
	var out []models.Mpn
	err = s.db.WithContext(ctx).Where("organization_id = ?", orgID).Order("partner_location_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list MPNs: %w", err)
	}
	return out, nil
}

// Mpn returns one MPN the caller may see (its organisation's, or any for a
// reviewer); others are NOT_FOUND.
func (s *Service) Mpn(ctx context.Context, mpnID uuid.UUID) (*models.Mpn, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	var m models.Mpn
	err = s.db.WithContext(ctx).Where("id = ?", mpnID).Take(&m).Error
	if storage.IsNotFound(err) || (err == nil && !id.CanSeeOrganisation(m.OrganizationID)) {
		return nil, apperr.New(apperr.MpnNotFound, "mpnId", "That MPN is not one of your organisation's MPNs; choose one from your MPN list.")
	}
	if err != nil {
		return nil, fmt.Errorf("load MPN: %w", err)
	}
	return &m, nil
}

// EnrollMpn enrolls one of the caller's organisation's MPNs in the incentive
// programs. Enrolling an enrolled MPN changes nothing.
func (s *Service) EnrollMpn(ctx context.Context, mpnID uuid.UUID) (*models.Mpn, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := id.RequireMpnEnroller(); err != nil {
		return nil, err
	}
	m, err := s.Mpn(ctx, mpnID)
	if err != nil {
		return nil, err
	}
	if m.OrganizationID != id.OrganizationID {
		return nil, apperr.New(apperr.MpnNotFound, "mpnId", "That MPN is not one of your organisation's MPNs; choose one from your MPN list.")
	}
	now := storage.Now()
	res := s.db.WithContext(ctx).Model(&models.Mpn{}).
		Where("id = ? AND enrolled_at IS NULL", mpnID).
		Updates(map[string]any{"enrolled_at": now, "enrolled_by": id.UserID})
	if res.Error != nil {
		return nil, fmt.Errorf("enroll MPN: %w", res.Error)
	}
	return s.Mpn(ctx, mpnID)
}

// Organization returns a partner organisation the caller may see.
func (s *Service) Organization(ctx context.Context, orgID uuid.UUID) (*models.PartnerOrganization, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !id.CanSeeOrganisation(orgID) {
		return nil, apperr.NotFoundf("id", "No such partner organisation.")
	}
	var o models.PartnerOrganization
	err = s.db.WithContext(ctx).Where("id = ?", orgID).Take(&o).Error
	if storage.IsNotFound(err) {
		return nil, apperr.NotFoundf("id", "No such partner organisation.")
	}
	if err != nil {
		return nil, fmt.Errorf("load organisation: %w", err)
	}
	return &o, nil
}
