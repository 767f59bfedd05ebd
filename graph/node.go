package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/graph/model"
	"cpor/relay"
)

// node resolves a global ID to the object, or nil when it does not exist
// or is not the caller's to see. A malformed ID is INVALID_INPUT.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	typ, key, ok := relay.ParseGlobalID(id)
	if !ok {
		return nil, apperr.Invalidf("id", "%s is not an ID this API issued.", apperr.Quote(id))
	}
	if typ == relay.TypeClaimEvent {
		seq, err := relay.ParseInt64(id, typ, "id")
		if err != nil {
			return nil, err
		}
		return asNode(r.svc.Claims.Event(ctx, seq))
	}
	u, err := uuid.Parse(key)
	if err != nil {
		return nil, apperr.Invalidf("id", "%s is not an ID this API issued.", apperr.Quote(id))
	}
	switch typ {
	case relay.TypeClaim:
		return asNode(r.svc.Claims.Get(ctx, u))
	case relay.TypeDocument:
		return asNode(r.svc.Claims.Document(ctx, u))
	case relay.TypeComment:
		return asNode(r.svc.Claims.Comment(ctx, u))
	case relay.TypeMpn:
		return asNode(r.svc.Catalog.Mpn(ctx, u))
	case relay.TypeOrganization:
		return asNode(r.svc.Catalog.Organization(ctx, u))
	case relay.TypeCustomerTenant:
		return asNode(r.svc.Catalog.Tenant(ctx, u))
	case relay.TypeProduct:
		return asNode(r.svc.Catalog.Product(ctx, u))
	case relay.TypeSubscription:
		return asNode(r.svc.Catalog.Subscription(ctx, u))
	case relay.TypeAssociation:
		return asNode(r.svc.Workflow.Association(ctx, u))
	case relay.TypeArbitrationCase:
		return asNode(r.svc.Workflow.Case(ctx, u))
	}
	return nil, apperr.Invalidf("id", "%s is not an ID this API issued.", apperr.Quote(id))
}

// nodes resolves each global ID as node does. Following Relay, one bad ID
// does not fail the others: its entry is null and an error at its index
// (["nodes", i]) says why. A failure without a code (the database) fails
// the whole list, as an internal error must.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if err := relay.CheckListLength("ids", len(ids)); err != nil {
		return nil, err
	}
	out := make([]model.Node, len(ids))
	for i, id := range ids {
		n, err := r.node(ctx, id)
		switch _, coded := apperr.All(err); {
		case err == nil:
			out[i] = n
		case coded:
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), err)
		default:
			return nil, err
		}
	}
	return out, nil
}

// asNode returns a found object as a Node, and nil (no error) for one that
// is not found or not visible.
func asNode[T any](v *T, err error) (model.Node, error) {
	v, err = nilIfNotFound(v, err)
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}
