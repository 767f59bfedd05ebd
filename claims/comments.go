package claims

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
)

// AddComment posts to a claim's thread: the claim's organisation's admins
// (answering an information request, say) and reviewers may.
func (s *Service) AddComment(ctx context.Context, claimID uuid.UUID, body string) (*models.Comment, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	kind := models.CommentPartner
	if id.IsReviewer() {
		kind = models.CommentReviewer
	}
	var out *models.Comment
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		c, err := Load(tx.DB, id, claimID, false)
		if err != nil {
			return err
		}
		out, err = s.PostComment(tx, c, id, kind, body)
		return err
	})
	return out, err
}

// PostComment writes a comment and its COMMENT_ADDED event inside tx. A nil
// author posts as the system. Transitions use it for information requests
// and for the notices they post.
func (s *Service) PostComment(tx *storage.Tx, c *models.Claim, author *auth.Identity, kind models.CommentKind, body string) (*models.Comment, error) {
	text, err := cleanText(body, "body", maxCommentLength)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, apperr.Invalidf("body", "Write the comment's text.")
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
