package graph

import (
	"context"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/graph/model"
	"cpor/relay"
)

// userErrors sorts a domain error into what a mutation payload returns:
// rule violations and bad input become userErrors (prefixed with the input
// path), while authentication and authorisation failures and internal
// errors stay GraphQL errors.
func userErrors(err error) ([]*apperr.Error, error) {
	if err == nil {
		return []*apperr.Error{}, nil
	}
	list, ok := apperr.All(err)
	if !ok {
		return nil, err
	}
	out := make([]*apperr.Error, 0, len(list))
	for _, e := range list {
		if e.Code == apperr.Unauthenticated || e.Code == apperr.Forbidden {
			return nil, e
		}
		out = append(out, e)
	}
	return out, nil
}

// fieldPath turns a domain field ("customerContact.email") into the input
// path a client can point at (["input", "customerContact", "email"]).
func fieldPath(field string) []string {
	if field == "" {
		return nil
	}
	return append([]string{"input"}, strings.Split(field, ".")...)
}

func pageArgs(first *int, after *string, last *int, before *string) relay.Args {
	return relay.Args{First: first, After: after, Last: last, Before: before}
}

// optionalID parses an optional global ID.
func optionalID(id *string, typ, field string) (*uuid.UUID, error) {
	if id == nil {
		return nil, nil
	}
	u, err := relay.ParseUUID(*id, typ, field)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func stringPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func uuidString(u *uuid.UUID) *string {
	if u == nil {
		return nil
	}
	s := u.String()
	return &s
}

// nilIfNotFound makes a query field answer null for an object that does not
// exist or is not the caller's to see, as Relay's node field does.
func nilIfNotFound[T any](v *T, err error) (*T, error) {
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.TenantNotFound) || apperr.Is(err, apperr.MpnNotFound) {
		return nil, nil
	}
	return v, err
}

func viewer(ctx context.Context) (*auth.Identity, error) { return auth.FromContext(ctx) }

// workflowEvent is the schema's enum value of a workflow event's name
// (startReview is START_REVIEW); nil for no name or one the enum lacks.
func workflowEvent(name string) *model.WorkflowEvent {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	e := model.WorkflowEvent(b.String())
	if name == "" || !e.IsValid() {
		return nil
	}
	return &e
}

// roles pairs each role the service knows with its schema value, in the
// order the Role enum declares them.
var roles = []struct {
	role  auth.Role
	value model.Role
}{
	{auth.GlobalAdmin, model.RoleGlobalAdmin},
	{auth.BillingAdmin, model.RoleBillingAdmin},
	{auth.IncentivesAdmin, model.RoleIncentivesAdmin},
	{auth.Reviewer, model.RoleReviewer},
	{auth.Operator, model.RoleOperator},
	{auth.CustomerAdmin, model.RoleCustomerAdmin},
}

// assignedRoles are the schema's Role values of the identity's roles that
// the service knows, each once, in the enum's order; any other role is
// left out.
func assignedRoles(id *auth.Identity) []model.Role {
	out := []model.Role{}
	for _, r := range roles {
		if id.Has(r.role) {
			out = append(out, r.value)
		}
	}
	return out
}
