package httpapi

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
)

// wsOperation is one operation of a connection.
type wsOperation struct {
	c      *wsConn
	id     string
	cancel context.CancelFunc

	subscription bool // admitted as a subscription; guarded by c.mu

	// shape identifies what the operation renders for an event: the same
	// query and variables for a viewer with the same access render the
	// same bytes, so one rendering serves every such subscriber.
	shape string
	// name is the subscription's operation name, for its event spans.
	name string

	render sync.Mutex // one gqlgen execution at a time

	mu          sync.Mutex
	responses   graphql.ResponseHandler
	ctx         context.Context
	streaming   bool        // the resolver returned a stream (else: one error response)
	armed       bool        // responses is set
	pending     int         // Ready calls not yet answered by a responses call
	streamed    []int64     // sequence numbers of the events those Ready calls announced
	queue       []liveEvent // live events waiting to be rendered and written
	draining    bool
	interrupted error // why the server ends the subscription before its stream does
	ended       error // why it ended, when the client did not complete it
	// after is the sequence number of the last event written, or before
	// the first, the one the stream follows on from; -1 until known.
	after int64
}

// start begins an operation: a subscription stays registered, a query or
// mutation answers once.
func (c *wsConn) start(m wsMessage) bool {
	c.mu.Lock()
	switch {
	case !c.acked:
		c.mu.Unlock()
		c.close(closeUnauthorized, "Unauthorized")
		return false
	case m.ID == "":
		c.mu.Unlock()
		c.close(closeBadRequest, "Subscription needs an id")
		return false
	}
	if _, dup := c.ops[m.ID]; dup {
		c.mu.Unlock()
		c.close(closeDuplicateID, "Subscriber for "+truncate(m.ID, 64)+" already exists")
		return false
	}
	if len(c.ops) >= c.t.maxSubscriptions {
		c.mu.Unlock()
		c.sendErrors(m.ID, gqlerror.List{{Message: "Too many subscriptions on this connection; complete one first.",
			Extensions: map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"}}})
		return true
	}
	if c.refusal != nil {
		reason := c.refusal
		c.mu.Unlock()
		c.sendErrors(m.ID, gqlerror.List{c.t.endingError(reason, -1)})
		return true
	}
	ctx, cancel := context.WithCancel(c.ctx)
	op := &wsOperation{c: c, id: m.ID, cancel: cancel, after: -1}
	c.ops[m.ID] = op
	c.running.Add(1) // while not refused, so before any Shutdown waits
	c.mu.Unlock()

	var params graphql.RawParams
	if err := json.Unmarshal(m.Payload, &params); err != nil || params.Query == "" {
		c.failOperation(op, gqlerror.List{{Message: "The payload needs a query.", Extensions: map[string]any{"code": apperr.InvalidInput}}})
		return true
	}
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.failOperation(op, resp.Errors)
		return true
	}
	if rc.Operation.Operation != ast.Subscription {
		go op.answerOnce(ctx, rc)
		return true
	}
	if reason := c.admitSubscription(op); reason != nil {
		c.failOperation(op, gqlerror.List{c.t.endingError(reason, -1)})
		return true
	}
	op.subscribe(ctx, rc)
	return true
}

// admitSubscription marks op as a subscription, which the connection's
// expiry or shutdown will end, unless either came while op was being
// parsed: then it returns why op is refused.
func (c *wsConn) admitSubscription(op *wsOperation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusal != nil {
		return c.refusal
	}
	op.subscription = true
	return nil
}

// answerOnce runs a query or mutation sent over the websocket.
func (op *wsOperation) answerOnce(ctx context.Context, rc *graphql.OperationContext) {
	defer op.c.running.Done()
	defer op.cancel()
	responses, ctx := op.c.exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if !op.c.release(op) {
		return
	}
	if resp != nil {
		op.c.sendResponse(op.id, resp)
	}
	op.c.sendComplete(op.id)
}

// finish ends a stream the server closed: with an error saying why when
// the hub or the server ended it, else with complete. It runs once per
// subscription, however it ends.
func (op *wsOperation) finish() {
	defer op.c.running.Done()
	op.cancel()
	if !op.c.release(op) {
		return // the client completed it
	}
	op.mu.Lock()
	reason, after := op.ended, op.after
	op.mu.Unlock()
	if reason == nil {
		op.c.sendComplete(op.id)
		return
	}
	op.c.sendErrors(op.id, gqlerror.List{op.c.t.endingError(reason, after)})
}
