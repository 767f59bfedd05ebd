package graph

import (
	"strings"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/graph/model"
	"cpor/relay"
)

// pointers adapts a domain list to the pointer slices gqlgen wants.
func pointers[T any](items []T, err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out, nil
}

// tenantRef reads a tenant reference: the tenant ID a customer gives, or
// the CustomerTenant's global ID.
func tenantRef(id string) (uuid.UUID, error) {
	if strings.Count(id, "-") == 4 {
		return relay.ParseGUID(id, "id", "tenant ID")
	}
	return relay.ParseUUID(id, relay.TypeCustomerTenant, "id")
}

func tenantInput(in model.UpsertCustomerTenantInput) (catalog.TenantInput, error) {
	tenant, err := relay.ParseGUID(in.TenantID, "tenantId", "tenant ID")
	if err != nil {
		return catalog.TenantInput{}, err
	}
	out := catalog.TenantInput{TenantID: tenant, DisplayName: in.DisplayName, Domains: in.Domains}
	if in.WorkloadIds != nil {
		out.WorkloadIDs = []uuid.UUID{}
		for _, w := range in.WorkloadIds {
			id, err := relay.ParseUUID(w, relay.TypeProduct, "workloadIds")
			if err != nil {
				return out, err
			}
			out.WorkloadIDs = append(out.WorkloadIDs, id)
		}
	}
	return out, nil
}

func subscriptionInput(in model.UpsertSubscriptionInput) (catalog.SubscriptionInput, error) {
	var errs apperr.List
	sub, err := relay.ParseGUID(in.SubscriptionID, "subscriptionId", "subscription ID")
	errs.Add(err)
	tenant, err := relay.ParseGUID(in.TenantID, "tenantId", "tenant ID")
	errs.Add(err)
	product, err := relay.ParseUUID(in.ProductID, relay.TypeProduct, "productId")
	errs.Add(err)
	out := catalog.SubscriptionInput{
		ID: sub, TenantID: tenant, ProductID: product, Channel: in.Channel,
		ProvisioningState: in.ProvisioningState, Status: in.Status, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
	}
	if in.OrderID != nil && *in.OrderID != "" {
		order, err := relay.ParseGUID(*in.OrderID, "orderId", "order ID")
		errs.Add(err)
		out.OrderID = &order
	}
	return out, errs.Err()
}
