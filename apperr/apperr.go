// Package apperr defines the service's error values: every failure a client
// can see carries a stable code (docs/product.md §4), the input field it concerns
// and a message that tells the user what to do next.
package apperr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Code is a stable, client-facing error code.
type Code string

const (
	DomainTenantMismatch         Code = "DOMAIN_TENANT_MISMATCH"
	TenantNotFound               Code = "TENANT_NOT_FOUND"
	InvalidSubscriptionID        Code = "INVALID_SUBSCRIPTION_ID"
	SubscriptionNotFoundOnTenant Code = "SUBSCRIPTION_NOT_FOUND_ON_TENANT"
	ProductNotOnTenant           Code = "PRODUCT_NOT_ON_TENANT"
	SubscriptionNotDynamics      Code = "SUBSCRIPTION_NOT_DYNAMICS"
	SubscriptionIsCSP            Code = "SUBSCRIPTION_IS_CSP"
	SubscriptionNotProvisioned   Code = "SUBSCRIPTION_NOT_PROVISIONED"
	SubscriptionNotActive        Code = "SUBSCRIPTION_NOT_ACTIVE"
	SubscriptionAlreadyClaimed   Code = "SUBSCRIPTION_ALREADY_CLAIMED"
	ActivityNotAllowed           Code = "ACTIVITY_NOT_ALLOWED"
	MpnNotEnrolled               Code = "MPN_NOT_ENROLLED"
	MpnNotFound                  Code = "MPN_NOT_FOUND"
	ProofOfExecutionRequired     Code = "PROOF_OF_EXECUTION_REQUIRED"
	ProofOfExecutionTooOld       Code = "POE_TOO_OLD"
	InvalidTransition            Code = "INVALID_TRANSITION"
	StaleClaim                   Code = "STALE_CLAIM"
	Forbidden                    Code = "FORBIDDEN"
	Unauthenticated              Code = "UNAUTHENTICATED"
	NotFound                     Code = "NOT_FOUND"
	InvalidInput                 Code = "INVALID_INPUT"
	// NotWithdrawable: the claim is already decided (or withdrawn, or
	// expired); an approved association is ended with endAssociation.
	NotWithdrawable Code = "NOT_WITHDRAWABLE"
	// ResponseOverdue: the answer to an information request came after its
	// deadline; the request lapsed.
	ResponseOverdue Code = "RESPONSE_OVERDUE"
	// AssociationNotActive: the association has already ended.
	AssociationNotActive Code = "ASSOCIATION_NOT_ACTIVE"
	// WebhookURLInvalid: a webhook endpoint's URL is not an absolute HTTPS
	// URL of a public host (or resolves, at delivery, to a private one).
	WebhookURLInvalid Code = "WEBHOOK_URL_INVALID"
	// Internal is never produced by a rule: it stands for a failure whose
	// details stay in the server log.
	Internal Code = "INTERNAL"
)

// Codes of the request rather than of a rule: the HTTP and websocket
// transports and the operation's limits give them.
const (
	// RateLimited: the caller's budget is spent; retry after the time the
	// error says.
	RateLimited Code = "RATE_LIMITED"
	// Timeout: the operation ran past its deadline and was cancelled,
	// database work included; nothing it was writing was kept.
	Timeout Code = "TIMEOUT"
	// ResponseTooLarge: the result is over the response size limit.
	ResponseTooLarge Code = "RESPONSE_TOO_LARGE"
	// ShuttingDown: the instance is draining for a restart; reconnect.
	ShuttingDown Code = "SERVER_SHUTTING_DOWN"
)

// Codes lists every code a rule can produce, in the order of docs/product.md §4.2.
var Codes = []Code{
	DomainTenantMismatch, TenantNotFound, InvalidSubscriptionID, SubscriptionNotFoundOnTenant,
	ProductNotOnTenant, SubscriptionNotDynamics, SubscriptionIsCSP, SubscriptionNotProvisioned,
	SubscriptionNotActive, SubscriptionAlreadyClaimed, ActivityNotAllowed, MpnNotEnrolled,
	MpnNotFound, ProofOfExecutionRequired, ProofOfExecutionTooOld, InvalidTransition, StaleClaim, Forbidden,
	Unauthenticated, NotFound, InvalidInput,
	NotWithdrawable, ResponseOverdue, AssociationNotActive, WebhookURLInvalid,
}

// Error is one rule violation or access failure.
type Error struct {
	Code    Code
	Field   string // input field path, dot separated ("input.subscriptionId"); empty when none
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
}

// New builds an Error.
func New(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// List is several rule violations found together, so a form can show them
// all at once.
type List []*Error

func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Add appends the rule violations err carries; nil adds nothing. It lets a
// validation collect every problem of an input before it answers.
func (l *List) Add(err error) {
	if found, ok := All(err); ok {
		*l = append(*l, found...)
	}
}

// Err returns the list as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Has reports whether the list holds an error with the code.
func (l List) Has(code Code) bool {
	for _, e := range l {
		if e.Code == code {
			return true
		}
	}
	return false
}

// All unpacks err into the coded errors it carries. A plain error that carries
// no code yields nothing and ok=false: it is internal.
func All(err error) (List, bool) {
	var list List
	if errors.As(err, &list) {
		return list, true
	}
	var one *Error
	if errors.As(err, &one) {
		return List{one}, true
	}
	return nil, false
}

// CodeOf returns the code of the first coded error in err, or Internal.
func CodeOf(err error) Code {
	if list, ok := All(err); ok && len(list) > 0 {
		return list[0].Code
	}
	return Internal
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool {
	list, _ := All(err)
	return list.Has(code)
}

// Common constructors for access failures, whose messages are the same everywhere.

func Unauthenticatedf(format string, args ...any) *Error {
	return New(Unauthenticated, "", format, args...)
}

func Forbiddenf(format string, args ...any) *Error {
	return New(Forbidden, "", format, args...)
}

func NotFoundf(field, format string, args ...any) *Error {
	return New(NotFound, field, format, args...)
}

func Invalidf(field, format string, args ...any) *Error {
	return New(InvalidInput, field, format, args...)
}

// maxQuoted is the most of a client's value an error message repeats.
const maxQuoted = 64

// Quote quotes a value the client sent for an error message, cut to its
// first 64 characters: enough to recognise it, never the whole of a large
// or secret input.
func Quote(s string) string {
	if r := []rune(s); len(r) > maxQuoted {
		return strconv.Quote(string(r[:maxQuoted])) + "…"
	}
	return strconv.Quote(s)
}

// MessageOf is the message of err's first coded error, or err's own text.
func MessageOf(err error) string {
	if list, ok := All(err); ok {
		return list[0].Message
	}
	return err.Error()
}
