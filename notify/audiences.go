package notify

import (
	"strings"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
)

// audiences are the groups a person belongs to, as their token says.
type audiences struct {
	organization uuid.UUID // partner admins of; uuid.Nil when none
	tenant       uuid.UUID // customer admins of; uuid.Nil when none
	reviewer     bool
	operator     bool
}

func audiencesOf(id *auth.Identity) audiences {
	var a audiences
	if id.IsPartnerAdmin() {
		a.organization = id.OrganizationID
	}
	if id.IsCustomerAdmin() {
		a.tenant = id.TenantID
	}
	a.reviewer, a.operator = id.IsReviewer(), id.IsOperator()
	return a
}

func (a audiences) none() bool {
	return a.organization == uuid.Nil && a.tenant == uuid.Nil && !a.reviewer && !a.operator
}

func (a audiences) includes(n *models.Notification) bool {
	switch n.Audience {
	case models.AudiencePartnerAdmins:
		return a.organization != uuid.Nil && n.AudienceID != nil && *n.AudienceID == a.organization
	case models.AudienceCustomerAdmins:
		return a.tenant != uuid.Nil && n.AudienceID != nil && *n.AudienceID == a.tenant
	case models.AudienceReviewers:
		return a.reviewer
	case models.AudienceOperators:
		return a.operator
	}
	return false
}

// where is the SQL condition (on notifications aliased n) of the
// notifications for these audiences.
func (a audiences) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	if a.organization != uuid.Nil {
		conds = append(conds, "(n.audience = ? AND n.audience_id = ?)")
		args = append(args, models.AudiencePartnerAdmins, a.organization)
	}
	if a.tenant != uuid.Nil {
		conds = append(conds, "(n.audience = ? AND n.audience_id = ?)")
		args = append(args, models.AudienceCustomerAdmins, a.tenant)
	}
	if a.reviewer {
		conds, args = append(conds, "n.audience = ?"), append(args, models.AudienceReviewers)
	}
	if a.operator {
		conds, args = append(conds, "n.audience = ?"), append(args, models.AudienceOperators)
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

func errNoInbox() error {
	return apperr.Forbiddenf("Notifications are for partner admins, reviewers, operators and customer admins; your roles receive none.")
}
