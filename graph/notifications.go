package graph

import (
	"context"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/graph/model"
	"cpor/models"
	"cpor/relay"
)

// notificationIDs reads markNotificationsRead's IDs.
func notificationIDs(ids []string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		u, err := relay.ParseUUID(id, relay.TypeNotification, "ids")
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// preferences are the caller's choice with the address e-mail goes to.
func preferences(ctx context.Context, delivery models.NotificationPreference) *model.NotificationPreferences {
	out := &model.NotificationPreferences{Delivery: delivery}
	if id, err := auth.FromContext(ctx); err == nil && id.Email != "" {
		out.Email = &id.Email
	}
	return out
}
