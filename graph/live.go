package graph

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"cpor/claims"
	"cpor/graph/model"
	"cpor/live"
	"cpor/loaders"
	"cpor/relay"
)

// follow starts a live subscription for the caller after the domain has
// checked that it may follow the claim (or claims at all). build makes the
// event's payload, once per event for all subscribers.
func follow[T any](ctx context.Context, r *subscriptionResolver, kind live.Kind, claimID, after *string, build func(*live.Delivery) T) (<-chan T, error) {
	var id *uuid.UUID
	if claimID != nil {
		u, err := relay.ParseUUID(*claimID, relay.TypeClaim, "claimId")
		if err != nil {
			return nil, err
		}
		id = &u
	}
	from, err := eventSeq(after)
	if err != nil {
		return nil, err
	}
	following := claims.FollowStatus
	if kind == live.Comments {
		following = claims.FollowComments
	}
	who, err := r.svc.Claims.AuthorizeFollow(ctx, id, following)
	if err != nil {
		return nil, err
	}
	return live.Subscribe(ctx, r.svc.Live, live.Filter{Identity: who, Kind: kind, ClaimID: id},
		live.Options{After: from, ExpiresAt: who.ExpiresAt},
		func(d *live.Delivery) T {
			// The subscriber resolves the claim's relations through the
			// event's shared loaders. Switching before the previous event
			// finished resolving is harmless: both read the same database.
			loaders.Use(ctx, d.Loaders)
			return d.Shared(func(d *live.Delivery) any { return build(d) }).(T)
		})
}

func statusChange(d *live.Delivery) *model.ClaimStatusChange {
	return &model.ClaimStatusChange{
		Cursor: eventCursor(d), Status: *d.Event.ToStatus, PreviousStatus: *d.Event.FromStatus,
		Event: d.Event.Event, Actor: actorOf(d.Event), At: d.Event.CreatedAt, Reason: stringPtr(d.Event.Reason),
		Claim: d.Claim,
	}
}

func commentAdded(d *live.Delivery) *model.CommentAdded {
	return &model.CommentAdded{Cursor: eventCursor(d), Comment: d.Comment, Claim: d.Claim}
}

func eventSeq(after *string) (*int64, error) {
	if after == nil {
		return nil, nil
	}
	c, err := claims.EventOrder.Decode(*after, "after")
	if err != nil {
		return nil, err
	}
	seq, _ := strconv.ParseInt(c.Key, 10, 64) // Decode checked it
	return &seq, nil
}

func eventCursor(d *live.Delivery) string { return relay.SeqCursor(d.Event.Seq) }
