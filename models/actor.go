package models

// Actor is who did something: a person, in the role they acted in, or the
// system. Comments and events carry theirs inline, so reading one costs
// nothing.
type Actor struct {
	ID   string
	Name string
	Kind ActorKind
}

// Author is who wrote the comment, in the role the comment's kind says.
func (c *Comment) Author() Actor {
	kind := ActorSystem
	switch c.Kind {
	case CommentPartner:
		kind = ActorPartner
	case CommentReviewer, CommentInformationRequest:
		kind = ActorReviewer
	}
	return Actor{ID: c.AuthorID, Name: c.AuthorName, Kind: kind}
}

// Actor is who caused the event.
func (e *ClaimEvent) Actor() Actor {
	return Actor{ID: e.ActorID, Name: e.ActorName, Kind: e.ActorKind}
}
