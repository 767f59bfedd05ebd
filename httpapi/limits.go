package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
)

// operationDeadline gives every query and mutation a deadline: past it,
// its context is cancelled, which cancels its database work (a mutation's
// transaction rolls back) and its fields fail with TIMEOUT.
// Subscriptions live as long as their connection.
func operationDeadline(timeout time.Duration) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		rc := graphql.GetOperationContext(ctx)
		if timeout <= 0 || rc.Operation == nil || rc.Operation.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		responses := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := responses(ctx)
			if resp == nil || !hasNext(resp) {
				cancel() // the last (or only) result: release the timer
			}
			return resp
		}
	}
}

// capResponse refuses a result whose data is over max bytes: the client
// gets RESPONSE_TOO_LARGE instead of megabytes it did not mean to ask for.
func capResponse(max int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || max <= 0 || len(resp.Data) <= max {
			return resp
		}
		size := len(resp.Data)
		resp.Data = json.RawMessage("null")
		resp.Errors = gqlerror.List{{
			Message:    fmt.Sprintf("The result is %d KiB, over the limit of %d KiB; ask for fewer fields or smaller pages.", size>>10, max>>10),
			Extensions: map[string]any{"code": apperr.ResponseTooLarge},
		}}
		return resp
	}
}
