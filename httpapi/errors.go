package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
)

// internalError marks an error that a resolver returned without a code: a
// failure whose details belong in the log, not in the response.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// markInternal runs around every resolver and marks its uncoded errors as
// internal. Errors gqlgen raises itself (a malformed argument, say) never
// pass here and keep their message.
func markInternal(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		if _, coded := apperr.All(err); !coded {
			err = internalError{err}
		}
	}
	return res, err
}

// presentErrors gives every GraphQL error an extensions.code: the domain's
// code and message for coded errors, INTERNAL with a generic message (and
// the details logged) for internal ones, and gqlgen's own code, or
// INVALID_INPUT, for errors in the request itself.
func presentErrors(log *slog.Logger, timeout time.Duration) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		var internal internalError
		if errors.As(err, &internal) && errors.Is(err, context.DeadlineExceeded) {
			log.WarnContext(ctx, "operation timed out", "path", gqlErr.Path.String(), "timeout", timeout)
			gqlErr.Message = fmt.Sprintf("The operation ran past its deadline of %s and was cancelled; nothing it was changing was kept. Ask for less, or retry.", timeout)
			gqlErr.Extensions = map[string]any{"code": apperr.Timeout}
			return gqlErr
		}
		if errors.As(err, &internal) {
			level := slog.LevelError
			if errors.Is(err, context.Canceled) {
				level = slog.LevelDebug // the client went away
			}
			log.Log(ctx, level, "resolver failed", "path", gqlErr.Path.String(), "err", internal.err)
			gqlErr.Message = "Something went wrong on our side; try again. If it keeps happening, contact support."
			gqlErr.Extensions = map[string]any{"code": apperr.Internal}
			return gqlErr
		}
		if list, ok := apperr.All(err); ok {
			gqlErr.Message = list[0].Message
			gqlErr.Extensions["code"] = list[0].Code
			if list[0].Field != "" {
				gqlErr.Extensions["field"] = list[0].Field
			}
			return gqlErr
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = apperr.InvalidInput
		}
		return gqlErr
	}
}

// recoverPanic turns a resolver panic into an internal error and logs it
// with its stack.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return internalError{fmt.Errorf("panic: %v", p)}
	}
}
