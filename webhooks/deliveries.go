package webhooks

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
)

// Delivery is one webhook delivery with its attempts, oldest first.
type Delivery struct {
	models.Delivery
	Attempts []models.DeliveryAttempt
}

// DeliveryPage is one page of an endpoint's deliveries, newest first.
type DeliveryPage = relay.Page[Delivery]

var deliveryOrder = relay.Keyset{TimeColumn: "created_at", KeyColumn: "id", Desc: true}

// Deliveries lists an endpoint's deliveries, newest first, each with its
// attempts (status code, latency, error).
func (s *Service) Deliveries(ctx context.Context, endpointID uuid.UUID, args relay.Args) (*DeliveryPage, error) {
	if _, err := s.Get(ctx, endpointID); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&models.Delivery{}).
		Where("channel = ? AND recipient = ?", models.ChannelWebhook, endpointID.String())
	rows, err := relay.Fetch(q, deliveryOrder, args, func(d *models.Delivery) relay.Cursor {
		return relay.Cursor{Time: d.CreatedAt, Key: d.ID.String()}
	})
	if err != nil {
		return nil, err
	}
	page := &DeliveryPage{Cursors: rows.Cursors, PageInfo: rows.PageInfo}
	if len(rows.Items) == 0 {
		return page, nil
	}
	ids := make([]uuid.UUID, len(rows.Items))
	for i, d := range rows.Items {
		ids[i] = d.ID
	}
	var attempts []models.DeliveryAttempt
	if err := s.db.WithContext(ctx).Where("delivery_id IN ?", ids).Order("id").Find(&attempts).Error; err != nil {
		return nil, fmt.Errorf("read delivery attempts: %w", err)
	}
	byDelivery := map[uuid.UUID][]models.DeliveryAttempt{}
	for _, a := range attempts {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	for _, d := range rows.Items {
		page.Items = append(page.Items, Delivery{Delivery: d, Attempts: byDelivery[d.ID]})
	}
	return page, nil
}

// Redeliver sends a delivery again, under the same ID (so a receiver that
// has it already can drop it): due now, with a fresh retry window.
func (s *Service) Redeliver(ctx context.Context, deliveryID uuid.UUID) (*models.Delivery, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	var out models.Delivery
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		err := storage.ForUpdate(tx.DB).Take(&out, "id = ? AND channel = ?", deliveryID, models.ChannelWebhook).Error
		if storage.IsNotFound(err) {
			return deliveryNotFound(deliveryID)
		}
		if err != nil {
			return fmt.Errorf("read delivery: %w", err)
		}
		endpoint, perr := uuid.Parse(out.Recipient)
		if perr != nil {
			return deliveryNotFound(deliveryID)
		}
		if _, err := manageable(tx.DB, id, endpoint); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return deliveryNotFound(deliveryID)
			}
			return err
		}
		now := s.clock()
		out.Status, out.Attempts, out.NextAttemptAt, out.GiveUpAt = models.DeliveryPending, 0, now, now.Add(s.window)
		out.LeasedUntil, out.LastError, out.DeliveredAt = nil, "", nil
		return tx.Model(&out).Select("status", "attempts", "next_attempt_at", "give_up_at", "leased_until", "last_error", "delivered_at").Updates(&out).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func deliveryNotFound(id uuid.UUID) error {
	return apperr.NotFoundf("deliveryId", "There is no webhook delivery %s of yours.", relay.UUIDGlobalID(relay.TypeWebhookDelivery, id))
}
