package httpapi

import (
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
	"cpor/live"
	"cpor/relay"
)

// endingError tells the client why the server ended (or refused) an
// operation and how to pick up where it left off: subscribe again with
// after, the cursor of the last event written (afterSeq; -1 when none is
// known), which the error also carries as extensions.after.
func (t *wsTransport) endingError(reason error, afterSeq int64) *gqlerror.Error {
	var code apperr.Code
	var what string
	switch {
	case errors.Is(reason, errTokenExpired), errors.Is(reason, live.ErrExpired):
		code, what = apperr.Unauthenticated, "The token expired. Reconnect with a fresh token and subscribe again"
	case errors.Is(reason, errShuttingDown):
		code, what = codeShuttingDown, "The server is shutting down. Reconnect and subscribe again"
	case errors.Is(reason, live.ErrSlowConsumer):
		code, what = "SLOW_CONSUMER", "Events were arriving faster than this connection read them. Subscribe again"
	default:
		t.log.Warn("subscription ended", "err", reason)
		code, what = apperr.Internal, "The subscription failed on our side. Subscribe again"
	}
	ext := map[string]any{"code": code}
	hint := "with after: <the cursor of the last event you received>"
	if afterSeq >= 0 {
		after := relay.SeqCursor(afterSeq)
		ext["after"] = after
		hint = fmt.Sprintf("with after: %q", after)
	}
	return &gqlerror.Error{Message: what + " " + hint + "; no event is lost.", Extensions: ext}
}
