package live

import (
	"strings"

	"github.com/google/uuid"

	"cpor/events"
	"cpor/models"
)

// interest sums up what the registered subscribers may receive, so that
// the hub can tell from an announcement alone whether anyone may see an
// event, and read from the log only the events someone may see.
type interest struct {
	statusClaims  map[uuid.UUID]int // subscribers of one claim's status changes
	commentClaims map[uuid.UUID]int // subscribers of one claim's comments
	orgs          map[uuid.UUID]int // partners following every claim of their organisation
	tenants       map[uuid.UUID]int // customer admins following their tenant's claims
	everything    int               // reviewers following every claim
	total         int
}

func newInterest() interest {
	return interest{statusClaims: map[uuid.UUID]int{}, commentClaims: map[uuid.UUID]int{}, orgs: map[uuid.UUID]int{},
		tenants: map[uuid.UUID]int{}}
}

// change counts f in (by +1) or out (by -1).
func (in *interest) change(f *Filter, by int) {
	in.total += by
	bump := func(m map[uuid.UUID]int, k uuid.UUID) {
		if m[k] += by; m[k] <= 0 {
			delete(m, k)
		}
	}
	switch {
	case f.ClaimID != nil && f.Kind == Comments:
		bump(in.commentClaims, *f.ClaimID)
	case f.ClaimID != nil:
		bump(in.statusClaims, *f.ClaimID)
	case f.Identity.IsReviewer():
		in.everything += by
	case f.Identity.IsPartnerAdmin() || f.Identity.IsCustomerAdmin():
		if f.Identity.IsPartnerAdmin() {
			bump(in.orgs, f.Identity.OrganizationID)
		}
		if f.Identity.IsCustomerAdmin() {
			bump(in.tenants, f.Identity.TenantID)
		}
	}
	// Other identities may see no claim: they receive nothing.
}

// mayWant reports whether some subscriber may see an announced event. A
// subscriber of one claim is counted in even if its identity may not see
// it: the event is read, and its access is checked, as before.
func (in *interest) mayWant(a events.Announced) bool {
	if a.Stream == events.CommentStream {
		return in.commentClaims[a.ClaimID] > 0
	}
	return in.everything > 0 || in.statusClaims[a.ClaimID] > 0 || in.orgs[a.OrganizationID] > 0 || in.tenantMayWant(a.TenantID)
}

// tenantMayWant reports whether a customer admin follows the tenant's
// claims; an announcement that does not know its tenant (uuid.Nil) may
// concern any.
func (in *interest) tenantMayWant(tenant uuid.UUID) bool {
	if tenant == uuid.Nil {
		return len(in.tenants) > 0
	}
	return in.tenants[tenant] > 0
}

// maxListed bounds the identifiers a read lists; past it, the read takes
// every event of the stream and the fan-out sorts them out.
const maxListed = 500

// condition is the SQL condition, with its arguments, on the events some
// subscriber may see; ok is false when nobody may see any.
func (in *interest) condition() (string, []any, bool) {
	var parts []string
	var args []any
	if status, sargs, ok := in.statusCondition(); ok {
		parts = append(parts, "(type = ? AND from_status <> to_status AND "+status+")")
		args = append(append(args, models.EventStatusChanged), sargs...)
	}
	if len(in.commentClaims) > 0 {
		cargs := []any{models.EventCommentAdded}
		parts = append(parts, "(type = ? AND "+listed("claim_id", in.commentClaims, &cargs)+")")
		args = append(args, cargs...)
	}
	if len(parts) == 0 {
		return "", nil, false
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, true
}

func (in *interest) statusCondition() (string, []any, bool) {
	if in.everything > 0 {
		return "TRUE", nil, true
	}
	var parts []string
	var args []any
	if len(in.statusClaims) > 0 {
		parts = append(parts, listed("claim_id", in.statusClaims, &args))
	}
	if len(in.orgs) > 0 {
		parts = append(parts, listed("organization_id", in.orgs, &args))
	}
	if len(in.tenants) > 0 {
		parts = append(parts, tenantsClaims(listed("customer_tenant_id", in.tenants, &args)))
	}
	if len(parts) == 0 {
		return "", nil, false
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, true
}

// listed is "column IN ?" over the keys of m, appending the list to args,
// or TRUE when the keys are too many to list.
func listed(column string, m map[uuid.UUID]int, args *[]any) string {
	if len(m) > maxListed {
		return "TRUE"
	}
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	*args = append(*args, ids)
	return column + " IN ?"
}

// tenantsClaims is the condition on events of the submitted claims whose
// customer tenant meets tenantCondition: what customer admins may see.
func tenantsClaims(tenantCondition string) string {
	return "claim_id IN (SELECT id FROM claims WHERE submitted_at IS NOT NULL AND " + tenantCondition + ")"
}
