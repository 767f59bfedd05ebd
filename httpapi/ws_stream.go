package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"cpor/auth"
	"cpor/live"
)

// liveEvent is an event the hub handed to an operation, with the push
// that puts it on the operation's own stream when it must render it.
type liveEvent struct {
	delivery *live.Delivery
	push     func() bool
}

// maxQueued bounds an operation's live events waiting to be written; a
// client that falls this far behind is ended as too slow.
const maxQueued = 64

// subscribe runs the subscription's root resolver now (it registers with
// the hub and returns the stream); events are then read as the hub
// announces them.
func (op *wsOperation) subscribe(ctx context.Context, rc *graphql.OperationContext) {
	op.shape = shapeOf(ctx, rc)
	if rc.Operation != nil {
		_, op.name = operationLabel(rc)
	}
	ctx = live.WithHooks(ctx, live.Hooks{Ready: op.ready, Ended: op.end, Subscribed: op.streamStarted, Deliver: op.deliver})
	responses, ctx := op.c.exec.DispatchOperation(ctx, rc)
	op.mu.Lock()
	op.responses, op.ctx, op.armed = responses, ctx, true
	if !op.streaming {
		op.pending++ // the one response carrying the resolver's errors
	}
	op.wakeLocked()
	op.mu.Unlock()
}

// wakeLocked starts the operation's drain when it has work and none runs;
// op.mu is held. Draining one operation at a time keeps its messages in
// order.
func (op *wsOperation) wakeLocked() {
	if !op.armed || op.draining || (op.pending == 0 && len(op.queue) == 0 && op.interrupted == nil) {
		return
	}
	op.draining = true
	go op.drain()
}

// shapeOf keys what an operation renders: its selection (the operation as
// parsed, without its name, with the document's fragments; see
// selectionText) and variables, and the viewer's access (roles,
// organisation, tenant), which is all that decides what a claim shows.
func shapeOf(ctx context.Context, rc *graphql.OperationContext) string {
	vars, _ := json.Marshal(rc.Variables)
	h := sha256.New()
	for _, part := range []string{selectionText(rc), string(vars)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if id, err := auth.FromContext(ctx); err == nil {
		roles := make([]string, len(id.Roles))
		for i, r := range id.Roles {
			roles[i] = string(r)
		}
		slices.Sort(roles)
		fmt.Fprintf(h, "%s|%s|%s", strings.Join(roles, ","), id.OrganizationID, id.TenantID)
	}
	return string(h.Sum(nil))
}

// selectionText prints the operation in a canonical form without its
// name: clients that send the same subscription under other names, with
// other spacing or comments (versions of an app, generated clients) render
// every event once between them instead of once each. What the events
// show is all in it: fields and their order, aliases, arguments,
// directives, fragments.
func selectionText(rc *graphql.OperationContext) string {
	if rc.Operation == nil || rc.Doc == nil {
		return rc.RawQuery + "\x00" + rc.OperationName
	}
	op := *rc.Operation // the parsed document is shared by the query cache: copy, never change
	op.Name = ""
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(&ast.QueryDocument{Operations: ast.OperationList{&op}, Fragments: rc.Doc.Fragments})
	return b.String()
}

// deliver takes a live event from the hub and queues it; it runs on the
// hub's goroutine, so rendering waits for the operation's drain.
func (op *wsOperation) deliver(d *live.Delivery, push func() bool) bool {
	op.mu.Lock()
	if len(op.queue) >= maxQueued {
		op.mu.Unlock()
		return false
	}
	op.queue = append(op.queue, liveEvent{d, push})
	op.wakeLocked()
	op.mu.Unlock()
	return true
}

// rendered returns the event's bytes for this operation: rendered once per
// shape, by the first of its subscribers to get there, through gqlgen.
// Nil means the operation's stream has ended.
func (op *wsOperation) rendered(ctx context.Context, e liveEvent) []byte {
	return e.delivery.Rendered(op.shape, func() []byte {
		op.render.Lock()
		defer op.render.Unlock()
		op.mu.Lock()
		streaming := op.streaming
		op.mu.Unlock()
		if !streaming || !e.push() {
			return nil
		}
		resp := op.responses(ctx)
		if resp == nil {
			return nil
		}
		b, err := encodeResponse(resp)
		if err != nil {
			op.c.t.log.Error("encode event", "err", err)
			return nil
		}
		return b
	})
}

func (op *wsOperation) streamStarted(from int64) {
	op.mu.Lock()
	op.streaming, op.after = true, from
	op.mu.Unlock()
}

// ready is the hub's announcement of an event queued on the stream (nil:
// of the stream's end); it runs on the hub's goroutine and only schedules
// work.
func (op *wsOperation) ready(d *live.Delivery) {
	op.mu.Lock()
	op.pending++
	if d != nil {
		op.streamed = append(op.streamed, d.Event.Seq)
	}
	op.wakeLocked()
	op.mu.Unlock()
}

func (op *wsOperation) end(reason error) {
	op.mu.Lock()
	op.ended = reason
	op.mu.Unlock()
}

// drain writes live events, then answers every announcement, in order,
// one responses call each. Interrupted, it writes nothing more but the
// error that ends the operation, and stays marked as draining so nothing
// follows.
func (op *wsOperation) drain() {
	for {
		op.mu.Lock()
		if op.interrupted != nil {
			op.ended, op.queue = op.interrupted, nil
			op.mu.Unlock()
			op.finish()
			return
		}
		if len(op.queue) > 0 {
			e := op.queue[0]
			op.queue = op.queue[1:]
			op.mu.Unlock()
			ctx, endSpan := op.eventSpan()
			payload := op.rendered(ctx, e)
			if payload == nil {
				endSpan()
				// The stream ended under the queue: what follows must not
				// be delivered past a gap, which a client resuming from
				// its last cursor would never see filled.
				op.mu.Lock()
				op.queue = nil
				op.mu.Unlock()
				continue
			}
			op.c.write(encodeMessage(op.id, op.c.proto.resultType(), payload))
			endSpan()
			op.mu.Lock()
			op.after = e.delivery.Event.Seq
			op.mu.Unlock()
			continue
		}
		if op.pending == 0 {
			op.draining = false
			op.mu.Unlock()
			return
		}
		op.pending--
		op.mu.Unlock()
		ctx, endSpan := op.eventSpan()
		op.render.Lock()
		resp := op.responses(ctx)
		op.render.Unlock()
		if resp == nil || !op.streaming {
			if resp != nil {
				op.c.sendResponse(op.id, resp)
			}
			endSpan()
			op.finish()
			return
		}
		op.c.sendResponse(op.id, resp)
		endSpan()
		op.mu.Lock()
		if len(op.streamed) > 0 {
			op.after, op.streamed = op.streamed[0], op.streamed[1:]
		}
		op.mu.Unlock()
	}
}

// interrupt ends a subscription the server will no longer serve; its drain
// sends the error that says why, after the events already written.
func (op *wsOperation) interrupt(reason error) {
	op.mu.Lock()
	if op.interrupted == nil {
		op.interrupted = reason
	}
	op.wakeLocked()
	op.mu.Unlock()
}

// eventSpan starts the span of one event delivered to the subscription,
// child of the subscription's operation; the returned func ends it. With
// tracing off it is the operation's context and a no-op.
func (op *wsOperation) eventSpan() (context.Context, func()) {
	tracer := op.c.t.tracer
	if tracer == nil {
		return op.ctx, func() {}
	}
	name := op.name
	if name == "" {
		name = "anonymous"
	}
	ctx, span := tracer.Start(op.ctx, "graphql.subscription.event "+name, trace.WithAttributes(
		attribute.String("graphql.operation.type", "subscription"),
		attribute.String("graphql.operation.name", name)))
	return ctx, func() { span.End() }
}
