// Package model names the Go types the schema binds to that are not
// domain models: connection instantiations and mutation payloads.
package model

import (
	"time"

	"cpor/models"
	"cpor/relay"
)

type (
	ClaimConnection            = relay.Connection[models.Claim]
	ClaimEdge                  = relay.Edge[models.Claim]
	CommentConnection          = relay.Connection[models.Comment]
	CommentEdge                = relay.Edge[models.Comment]
	ProofOfExecutionConnection = relay.Connection[models.Document]
	ProofOfExecutionEdge       = relay.Edge[models.Document]
	ClaimEventConnection       = relay.Connection[models.ClaimEvent]
	ClaimEventEdge             = relay.Edge[models.ClaimEvent]
	ArbitrationCaseConnection  = relay.Connection[models.ArbitrationCase]
	ArbitrationCaseEdge        = relay.Edge[models.ArbitrationCase]
	AssociationConnection      = relay.Connection[models.Association]
	AssociationEdge            = relay.Edge[models.Association]
)

// Node is any object with a global ID. The schema's Node binds to it rather
// than to a generated interface so that the domain models need no
// GraphQL-specific methods; node resolvers return the models themselves.
type Node interface{}

// ClaimStatusChange is a live status event. It is built once per event and
// shared by every subscriber; its plain fields need no resolver (gqlgen
// runs each resolver field on a goroutine of its own, per subscriber).
type ClaimStatusChange struct {
	Cursor         string
	Status         models.ClaimStatus
	PreviousStatus models.ClaimStatus
	Event          string
	Actor          *models.Actor
	At             time.Time
	Reason         *string
	Claim          *models.Claim
}

// CommentAdded is a live comment event, built once per event.
type CommentAdded struct {
	Cursor  string
	Comment *models.Comment
	Claim   *models.Claim
}
