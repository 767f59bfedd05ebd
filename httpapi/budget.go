package httpapi

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
	"cpor/auth"
	"cpor/budget"
)

// costExtension is where an operation's charge is kept on its operation
// context, and the name of the response extension that reports it.
const costExtension = "cost"

// mutationMinCost is the least a mutation costs: it writes.
const mutationMinCost = 10

// budgets charges every operation to its caller's budget: a signed-in
// caller by user, an anonymous one by client address. An operation costs
// its complexity (the measure the complexity limit uses: what it would
// load), at least 1, and a mutation at least 10. The gate takes 1 point
// before the document is even parsed, so that refused documents are paid
// for too; the charge takes the rest once the complexity is known.
type budgets struct {
	signedIn, anonymous *budget.Budgets
	now                 func() time.Time
}

func newBudgets(signedIn, anonymous budget.Config) *budgets {
	return &budgets{signedIn: budget.New(signedIn), anonymous: budget.New(anonymous), now: time.Now}
}

// caller names the budget the request spends and the bucket that holds it.
func (b *budgets) caller(ctx context.Context) (*budget.Budgets, string) {
	if id, err := auth.FromContext(ctx); err == nil {
		return b.signedIn, "user:" + id.UserID
	}
	return b.anonymous, "addr:" + clientAddrFrom(ctx)
}

// gate is the extension that runs before parsing.
func (b *budgets) gate() graphql.HandlerExtension { return budgetGate{b} }

// charge is the extension that runs after the complexity limit.
func (b *budgets) charge() graphql.HandlerExtension { return budgetCharge{b} }

// costReport is the response's extensions.cost; without budgets (turned
// off) it has only what the operation cost.
type costReport struct {
	// Requested is what the operation cost.
	Requested int `json:"requested"`
	// Remaining is what is left of the budget.
	Remaining *int `json:"remaining,omitempty"`
	// Capacity is the most the budget holds.
	Capacity *int `json:"capacity,omitempty"`
	// RestoreRate is the points that come back each second.
	RestoreRate *float64 `json:"restoreRate,omitempty"`
}

func (b *budgets) spend(ctx context.Context, rc *graphql.OperationContext, cost int) *gqlerror.Error {
	report, _ := rc.Stats.GetExtension(costExtension).(costReport)
	report.Requested += cost
	defer func() { rc.Stats.SetExtension(costExtension, report) }()
	bs, caller := b.caller(ctx)
	if bs == nil {
		return nil
	}
	c := bs.Spend(caller, cost, b.now())
	report.Remaining, report.Capacity, report.RestoreRate = &c.Remaining, &c.Capacity, &c.PerSecond
	if c.OK {
		return nil
	}
	return rateLimited(c)
}

func rateLimited(c budget.Charge) *gqlerror.Error {
	wait := int(math.Ceil(c.RetryAfter.Seconds()))
	msg := fmt.Sprintf("This operation costs %d points and %d are left of your budget of %d, which refills at %g a second; retry in %d s.",
		c.Cost, c.Remaining, c.Capacity, c.PerSecond, wait)
	if c.Cost > c.Capacity {
		wait = 3600
		msg = fmt.Sprintf("This operation costs %d points, more than your whole budget of %d; ask for less in one operation.", c.Cost, c.Capacity)
	}
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": apperr.RateLimited, "retryAfter": wait}}
}

type budgetGate struct{ b *budgets }

var _ graphql.OperationParameterMutator = budgetGate{}

func (budgetGate) ExtensionName() string                   { return "BudgetGate" }
func (budgetGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g budgetGate) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	return g.b.spend(ctx, graphql.GetOperationContext(ctx), 1)
}

type budgetCharge struct{ b *budgets }

var _ graphql.OperationContextMutator = budgetCharge{}

func (budgetCharge) ExtensionName() string                   { return "BudgetCharge" }
func (budgetCharge) Validate(graphql.ExecutableSchema) error { return nil }

func (c budgetCharge) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	cost := 1
	if stats := extension.GetComplexityStats(ctx); stats != nil {
		cost = max(stats.Complexity, 1)
	}
	if rc.Operation != nil && rc.Operation.Operation == ast.Mutation {
		cost = max(cost, mutationMinCost)
	}
	return c.b.spend(ctx, rc, cost-1) // the gate took one
}

// reportCost adds extensions.cost to every query and mutation response
// (subscription events are paid for once, at subscribe).
func reportCost(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	rc := graphql.GetOperationContext(ctx)
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		return resp
	}
	if report, ok := rc.Stats.GetExtension(costExtension).(costReport); ok {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions[costExtension] = report
	}
	return resp
}
