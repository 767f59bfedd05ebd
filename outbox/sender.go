package outbox

import (
	"context"
	"time"

	"cpor/models"
	"cpor/storage"
)

// Message is a delivery as its channel's sender sees it.
type Message struct {
	Delivery models.Delivery
	// Notification is what the delivery tells; nil for a digest, whose
	// payload lists its notifications.
	Notification *models.Notification
}

// Result is the outcome of one attempt.
type Result struct {
	// StatusCode is a webhook receiver's HTTP status; 0 when none came.
	StatusCode int
	// Err is nil when the message was delivered.
	Err error
	// Permanent says a retry cannot succeed (a refused address, a URL that
	// now resolves to a forbidden address): the delivery fails at once.
	Permanent bool
}

// Sender sends one channel's messages. Send must honour ctx, which carries
// the attempt's deadline, and must not touch the database: the dispatcher
// holds no transaction while it sends.
type Sender interface {
	Send(ctx context.Context, m Message) Result
}

// Settler is implemented by a sender that records more than the attempt in
// the transaction that records it (a webhook endpoint's health). final says
// the delivery will not be tried again.
type Settler interface {
	Settle(tx *storage.Tx, m Message, r Result, final bool, now time.Time) error
}
