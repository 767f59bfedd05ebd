package claims

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
	"cpor/textrule"
)

// AddComment posts to a claim's thread: the claim's organisation's admins
// (answering an information request, say) and reviewers may.
func (s *Service) AddComment(ctx context.Context, claimID uuid.UUID, body string) (*Posted, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	// The thread is the claim's detail: a customer admin, who may read the
	// claim, may not write to it either.
	if !id.IsReviewer() {
		if err := id.RequirePartnerAdmin(); err != nil {
			return nil, err
		}
	}
	kind := models.CommentPartner
	if id.IsReviewer() {
		kind = models.CommentReviewer
	}
	out := &Posted{}
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		// The row lock orders this claim's events: every writer of them
		// holds it, so they commit in the order of their sequence numbers
		// and a history page's after cursor misses none.
		c, err := Load(tx.DB, id, claimID, true)
		if err != nil {
			return err
		}
		if err := RequireDetail(id, c); err != nil {
			return err
		}
		out.Claim = c
		out.Comment, err = s.PostComment(tx, c, id, kind, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Posted is a posted comment with its claim as the posting transaction read
// it (a comment does not change the claim), so that the caller need not
// read the claim again.
type Posted struct {
	*models.Comment
	Claim *models.Claim
}

// PostComment writes a comment and its COMMENT_ADDED event inside tx. A nil
// author posts as the system. Transitions use it for information requests
// and for the notices they post.
func (s *Service) PostComment(tx *storage.Tx, c *models.Claim, author *auth.Identity, kind models.CommentKind, body string) (*models.Comment, error) {
	text, err := textrule.Comment.Require(body, "body", "Write the comment's text.")
	if err != nil {
		return nil, err
	}
	cm := &models.Comment{ID: uuid.New(), ClaimID: c.ID, Kind: kind, Body: text, CreatedAt: storage.Now()}
	ev := SystemEvent(c, models.EventCommentAdded)
	if author == nil {
		cm.AuthorID, cm.AuthorName = "system", "CPOR"
	} else {
		cm.AuthorID, cm.AuthorName = author.UserID, author.DisplayName()
		ev = EventFor(c, author, models.EventCommentAdded)
	}
	if err := tx.Create(cm).Error; err != nil {
		return nil, fmt.Errorf("save comment: %w", err)
	}
	ev.CommentID = &cm.ID
	return cm, s.log.Append(tx, ev)
}

// Comment returns one comment of a claim the caller may read.
func (s *Service) Comment(ctx context.Context, commentID uuid.UUID) (*models.Comment, error) {
	var cm models.Comment
	if err := s.childOfReadableClaim(ctx, &cm, "id = ?", commentID, func() uuid.UUID { return cm.ClaimID }); err != nil {
		return nil, err
	}
	return &cm, nil
}

// Event returns one history entry of a claim the caller may read.
func (s *Service) Event(ctx context.Context, seq int64) (*models.ClaimEvent, error) {
	var ev models.ClaimEvent
	if err := s.childOfReadableClaim(ctx, &ev, "seq = ?", seq, func() uuid.UUID { return ev.ClaimID }); err != nil {
		return nil, err
	}
	return &ev, nil
}

// childOfReadableClaim loads one row into dest and checks that the caller
// may read the claim it belongs to; either failing is NOT_FOUND. A caller
// who sees only the claim's summary (a customer admin) is FORBIDDEN.
func (s *Service) childOfReadableClaim(ctx context.Context, dest any, where string, key any, claimOf func() uuid.UUID) error {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return err
	}
	db := s.db.WithContext(ctx)
	err = db.Where(where, key).Take(dest).Error
	if storage.IsNotFound(err) {
		return apperr.NotFoundf("id", "No such object.")
	}
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	c, err := Load(db, id, claimOf(), false)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.NotFoundf("id", "No such object.")
		}
		return err
	}
	// A claim's comments, documents and history are its detail.
	return RequireDetail(id, c)
}
