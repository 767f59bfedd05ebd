package claims

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"cpor/auth"
	"cpor/models"
	"cpor/relay"
)

// A claim's child lists. A page of claims asks for the same list of every
// claim on it, so each list is fetched for all of them in one statement
// (relay.ChildList); resolvers batch the claims with a loader.
var (
	// CommentList is a claim's thread, oldest first.
	CommentList = relay.ChildList[models.Comment]{
		ParentColumn: "claim_id",
		Keyset:       relay.Keyset{TimeColumn: "created_at", KeyColumn: "id"},
		ParentOf:     func(c *models.Comment) uuid.UUID { return c.ClaimID },
		CursorOf:     func(c *models.Comment) relay.Cursor { return relay.Cursor{Time: c.CreatedAt, Key: c.ID.String()} },
	}
	// DocumentList is a claim's proof of execution, most recent first:
	// reviewers weigh the latest proof.
	DocumentList = relay.ChildList[models.Document]{
		ParentColumn: "claim_id",
		Keyset:       relay.Keyset{TimeColumn: "uploaded_at", KeyColumn: "id", Desc: true},
		ParentOf:     func(d *models.Document) uuid.UUID { return d.ClaimID },
		CursorOf:     func(d *models.Document) relay.Cursor { return relay.Cursor{Time: d.UploadedAt, Key: d.ID.String()} },
	}
	// EventList is a claim's history in sequence order.
	EventList = relay.ChildList[models.ClaimEvent]{
		ParentColumn: "claim_id",
		Keyset:       EventOrder,
		ParentOf:     func(e *models.ClaimEvent) uuid.UUID { return e.ClaimID },
		CursorOf:     func(e *models.ClaimEvent) relay.Cursor { return relay.Cursor{Key: strconv.FormatInt(e.Seq, 10)} },
	}
)

// EventOrder is the order of claim events: their sequence numbers, which
// history pages and live subscriptions use as cursors.
var EventOrder = relay.Keyset{KeyColumn: "seq", IntKey: true}

// RequireReadable fails unless the caller may read the claim, which the
// caller has already loaded, and so its child lists (comments, proof of
// execution, history): NOT_FOUND for a claim it may not read, FORBIDDEN for
// a customer admin, who sees the claim but not these (RequireDetail).
func RequireReadable(ctx context.Context, c *models.Claim) error {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return err
	}
	return RequireDetail(id, c)
}
