package storage

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"cpor/tracing"
)

// statementTracer puts a span around every SQL statement GORM sends, with
// the statement's text as written, placeholders and all: parameter values
// (personal data, secrets) never reach a span.
type statementTracer struct {
	tracer trace.Tracer
	system string
}

const statementTracerName = "cpor:statement-tracer"

// spanKey keeps the statement's span between the Before and After hooks.
const spanKey = "cpor:span"

type statementSpan struct {
	span   trace.Span
	parent context.Context
}

func (*statementTracer) Name() string { return statementTracerName }

// Initialize hooks the tracer before and after every kind of statement.
func (s *statementTracer) Initialize(db *gorm.DB) error {
	start := func(op string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			if tx.DryRun || tx.Statement.DryRun || tx.Statement.Context == nil {
				return
			}
			ctx, span := s.tracer.Start(tx.Statement.Context, "sql."+op,
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system", s.system), attribute.String("db.operation", op)))
			tx.InstanceSet(spanKey, statementSpan{span, tx.Statement.Context})
			tx.Statement.Context = ctx
		}
	}
	end := func(tx *gorm.DB) {
		v, ok := tx.InstanceGet(spanKey)
		if !ok {
			return
		}
		ss, ok := v.(statementSpan)
		if !ok {
			return
		}
		span := ss.span
		// A chain's Statement may send more statements: they are siblings,
		// not children, of this one.
		tx.Statement.Context = ss.parent
		// Statement.SQL holds the text with placeholders; the values are
		// in Statement.Vars, which stay out.
		span.SetAttributes(attribute.String("db.statement", tx.Statement.SQL.String()))
		if tx.Error != nil && tx.Error != gorm.ErrRecordNotFound {
			span.RecordError(tx.Error)
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register(statementTracerName+":start", start("create")),
		cb.Create().After("gorm:create").Register(statementTracerName+":end", end),
		cb.Query().Before("gorm:query").Register(statementTracerName+":start", start("query")),
		cb.Query().After("gorm:query").Register(statementTracerName+":end", end),
		cb.Update().Before("gorm:update").Register(statementTracerName+":start", start("update")),
		cb.Update().After("gorm:update").Register(statementTracerName+":end", end),
		cb.Delete().Before("gorm:delete").Register(statementTracerName+":start", start("delete")),
		cb.Delete().After("gorm:delete").Register(statementTracerName+":end", end),
		cb.Row().Before("gorm:row").Register(statementTracerName+":start", start("row")),
		cb.Row().After("gorm:row").Register(statementTracerName+":end", end),
		cb.Raw().Before("gorm:raw").Register(statementTracerName+":start", start("raw")),
		cb.Raw().After("gorm:raw").Register(statementTracerName+":end", end),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Trace makes db put a span around each statement it sends, recorded by tp.
// storage.Open calls it when Config.TracerProvider is set; a nil or no-op
// provider leaves db untouched.
func Trace(db *gorm.DB, tp trace.TracerProvider) error {
	if !tracing.On(tp) {
		return nil
	}
	system := "sqlite"
	if DialectOf(db) == Postgres {
		system = "postgresql"
	}
	return db.Use(&statementTracer{tracer: tp.Tracer("cpor/storage"), system: system})
}
