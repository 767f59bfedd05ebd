package graph

import (
	"context"

	"github.com/google/uuid"

	"cpor/graph/model"
	"cpor/relay"
)

// deliveries is a page of an endpoint's deliveries.
func (r *Resolver) deliveries(ctx context.Context, endpoint uuid.UUID, first *int, after *string) (*model.WebhookDeliveryConnection, error) {
	page, err := r.svc.Webhooks.Deliveries(ctx, endpoint, relay.Args{First: first, After: after})
	if err != nil {
		return nil, err
	}
	conn := &model.WebhookDeliveryConnection{PageInfo: &page.PageInfo}
	for i := range page.Items {
		d := &page.Items[i]
		conn.Edges = append(conn.Edges, &model.WebhookDeliveryEdge{Cursor: page.Cursors[i], Node: d})
		conn.Nodes = append(conn.Nodes, d)
	}
	return conn, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
