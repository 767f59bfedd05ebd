package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// workflowMigration is migration 2, the second release's workflow: claims
// may wait for the partner (ACTION_REQUIRED, with a response deadline and
// the review time left), be withdrawn or expire; customers consent or
// decline; partners end their own associations; arbitration cases may
// close undecided; deadline warnings enter the history.
//
// It is written in Go because SQLite cannot alter a CHECK constraint in
// SQL: the table would have to be rebuilt, and with foreign keys pointing at
// claims from five tables that means switching foreign keys off on the one
// connection of a pooled database. The constraints changed here only widen
// or add rules the existing rows already satisfy, which SQLite documents as
// a change that may be made in the schema text itself (PRAGMA
// writable_schema) when the schema version is bumped so that every
// connection reloads it. PostgreSQL drops and adds the constraints by name.
func workflowMigration(d Dialect) *goose.Migration {
	postgres := d == Postgres
	return goose.NewGoMigration(2,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return workflowChanges.apply(ctx, tx, postgres, true) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return workflowChanges.apply(ctx, tx, postgres, false) }},
	)
}

const (
	claimStatusesV1 = `'DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED', 'REJECTED'`
	claimStatusesV2 = `'DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ACTION_REQUIRED', 'ARBITRATION', 'APPROVED', 'REJECTED', 'WITHDRAWN', 'EXPIRED'`
	holdingV1       = `'SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED'`
	holdingV2       = `'SUBMITTED', 'UNDER_REVIEW', 'ACTION_REQUIRED', 'ARBITRATION', 'APPROVED'`
)

var workflowChanges = schemaChange{
	columns: []column{
		{"claims", "response_due_at", "{{timestamp}}"},
		{"claims", "review_time_left", "BIGINT"}, // seconds of business time
		{"claims", "resume_status", "TEXT"},
		{"claims", "customer_consent", "TEXT"},
		{"claims", "decision_code", "TEXT"},
	},
	checks: []check{
		{"claims", "claims_status_check", "status IN (" + claimStatusesV1 + ")", "status IN (" + claimStatusesV2 + ")"},
		// Past the draft a claim is complete; a draft may end withdrawn or
		// expired as it was.
		{"claims", "claims_check1",
			"status = 'DRAFT' OR (mpn_id IS NOT NULL AND product_id IS NOT NULL\n        AND submitted_at IS NOT NULL AND review_due_at IS NOT NULL)",
			"status IN ('DRAFT', 'EXPIRED') OR (status = 'WITHDRAWN' AND submitted_at IS NULL)\n        OR (mpn_id IS NOT NULL AND product_id IS NOT NULL AND submitted_at IS NOT NULL)"},
		{"claims", "claims_check2",
			"status = 'DRAFT' OR solution_area = 'MICROSOFT_365' OR subscription_id IS NOT NULL",
			"status IN ('DRAFT', 'EXPIRED', 'WITHDRAWN') OR solution_area = 'MICROSOFT_365' OR subscription_id IS NOT NULL"},
		{"claims", "claims_check4",
			"(status IN ('APPROVED', 'REJECTED')) = (decided_at IS NOT NULL)",
			"(status IN ('APPROVED', 'REJECTED', 'WITHDRAWN', 'EXPIRED')) = (decided_at IS NOT NULL)"},
		// The review clock runs in review and stops while the partner owes
		// an answer, keeping the time that was left.
		{"claims", "claims_review_clock", "",
			"status NOT IN ('SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION') OR review_due_at IS NOT NULL"},
		{"claims", "claims_waiting", "",
			"(status = 'ACTION_REQUIRED') = (resume_status IS NOT NULL AND response_due_at IS NOT NULL AND review_time_left IS NOT NULL)"},
		{"claims", "claims_resume_status", "", "resume_status IN ('UNDER_REVIEW', 'ARBITRATION')"},
		{"claims", "claims_customer_consent", "", "customer_consent IN ('PENDING', 'DECLINED')"},
		{"claims", "claims_decision_code", "", "decision_code IN ('NO_PARTNER_RESPONSE', 'CUSTOMER_DECLINED')"},
		{"claim_events", "claim_events_from_status_check", "from_status IN (" + claimStatusesV1 + ")", "from_status IN (" + claimStatusesV2 + ")"},
		{"claim_events", "claim_events_to_status_check", "to_status IN (" + claimStatusesV1 + ")", "to_status IN (" + claimStatusesV2 + ")"},
		{"claim_events", "claim_events_type_check",
			"type IN ('CREATED', 'UPDATED', 'STATUS_CHANGED', 'COMMENT_ADDED',\n                        'DOCUMENT_ATTACHED', 'CUSTOMER_NOTIFIED', 'ASSOCIATION_ENDED', 'RECLAIMED')",
			"type IN ('CREATED', 'UPDATED', 'STATUS_CHANGED', 'COMMENT_ADDED',\n                        'DOCUMENT_ATTACHED', 'CUSTOMER_NOTIFIED', 'ASSOCIATION_ENDED', 'RECLAIMED', 'DEADLINE_WARNING')"},
		{"associations", "associations_end_reason_check",
			"end_reason IN ('ARBITRATION_LOST', 'CUSTOMER_DECLINED', 'SUPERSEDED')",
			"end_reason IN ('ARBITRATION_LOST', 'CUSTOMER_DECLINED', 'SUPERSEDED', 'PARTNER_ENDED')"},
		{"arbitration_cases", "arbitration_cases_status_check", "status IN ('OPEN', 'RESOLVED')", "status IN ('OPEN', 'RESOLVED', 'CLOSED')"},
	},
	indexes: []index{
		{"claims_one_holding_per_subscription",
			"claims (organization_id, subscription_id, activity)\n    WHERE subscription_id IS NOT NULL AND status IN (%s)"},
		{"claims_one_holding_per_workload",
			"claims (organization_id, customer_tenant_id, product_id, activity)\n    WHERE subscription_id IS NULL AND status IN (%s)"},
	},
	// The scheduler finds drafts to expire and answers that lapse by these.
	plainIndexes: []string{
		"claims_waiting ON claims (response_due_at) WHERE status = 'ACTION_REQUIRED'",
	},
	indexFrom: holdingV1, indexTo: holdingV2,
}

type column struct{ table, name, typ string }

// check is one CHECK constraint changed (old set) or added (old empty).
type check struct{ table, name, old, new string }

// index is a unique partial index whose status list changes.
type index struct{ name, shape string }

type schemaChange struct {
	columns      []column
	checks       []check
	indexes      []index
	plainIndexes []string
	indexFrom    string
	indexTo      string
}

func (c schemaChange) apply(ctx context.Context, tx *sql.Tx, postgres, up bool) error {
	steps := []func(context.Context, *sql.Tx, bool, bool) error{c.addColumns, c.changeChecks, c.changeIndexes}
	if !up {
		steps = []func(context.Context, *sql.Tx, bool, bool) error{c.changeIndexes, c.changeChecks, c.addColumns}
	}
	for _, step := range steps {
		if err := step(ctx, tx, postgres, up); err != nil {
			return err
		}
	}
	return nil
}

func (c schemaChange) addColumns(ctx context.Context, tx *sql.Tx, postgres, up bool) error {
	for _, col := range c.columns {
		typ := strings.ReplaceAll(col.typ, "{{timestamp}}", map[bool]string{true: "TIMESTAMPTZ", false: "TIMESTAMP"}[postgres])
		q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", col.table, col.name, typ)
		if !up {
			q = fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", col.table, col.name)
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (c schemaChange) changeIndexes(ctx context.Context, tx *sql.Tx, _, up bool) error {
	statuses := c.indexTo
	if !up {
		statuses = c.indexFrom
	}
	var qs []string
	for _, ix := range c.indexes {
		qs = append(qs, "DROP INDEX "+ix.name,
			fmt.Sprintf("CREATE UNIQUE INDEX %s ON "+ix.shape, ix.name, statuses))
	}
	for _, ix := range c.plainIndexes {
		if up {
			qs = append(qs, "CREATE INDEX "+ix)
		} else {
			qs = append(qs, "DROP INDEX "+strings.Fields(ix)[0])
		}
	}
	for _, q := range qs {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (c schemaChange) changeChecks(ctx context.Context, tx *sql.Tx, postgres, up bool) error {
	if postgres {
		return c.changeChecksPostgres(ctx, tx, up)
	}
	return c.changeChecksSQLite(ctx, tx, up)
}

func (c schemaChange) changeChecksPostgres(ctx context.Context, tx *sql.Tx, up bool) error {
	for _, ch := range c.checks {
		from, to := ch.old, ch.new
		if !up {
			from, to = to, from
		}
		var qs []string
		if from != "" {
			qs = append(qs, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", ch.table, ch.name))
		}
		if to != "" {
			qs = append(qs, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)", ch.table, ch.name, to))
		}
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	return nil
}

// changeChecksSQLite edits each table's CREATE statement in the schema
// table: a changed constraint's text is replaced (it must be found exactly
// once), an added one is appended as a named table constraint. The schema
// version is bumped so that every connection reloads the schema, and the
// integrity check proves every row meets the new constraints.
func (c schemaChange) changeChecksSQLite(ctx context.Context, tx *sql.Tx, up bool) error {
	tables := map[string]string{}
	var order []string
	for _, ch := range c.checks {
		if _, ok := tables[ch.table]; ok {
			continue
		}
		var text string
		if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", ch.table).Scan(&text); err != nil {
			return fmt.Errorf("read %s: %w", ch.table, err)
		}
		tables[ch.table], order = text, append(order, ch.table)
	}
	for _, ch := range c.checks {
		edited, err := editCheck(tables[ch.table], ch, up)
		if err != nil {
			return err
		}
		tables[ch.table] = edited
	}
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
		return fmt.Errorf("writable schema: %w", err)
	}
	for _, name := range order {
		if _, err := tx.ExecContext(ctx, "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", tables[name], name); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	for _, q := range []string{fmt.Sprintf("PRAGMA schema_version = %d", version+1), "PRAGMA writable_schema = OFF"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	var verdict string
	if err := tx.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if verdict != "ok" {
		return fmt.Errorf("integrity check after changing constraints: %s", verdict)
	}
	return nil
}

func editCheck(text string, ch check, up bool) (string, error) {
	from, to := ch.old, ch.new
	if !up {
		from, to = to, from
	}
	if ch.old == "" {
		named := ",\n    CONSTRAINT " + ch.name + " CHECK (" + ch.new + ")"
		if up {
			end := strings.LastIndex(text, ")")
			return text[:end] + named + "\n" + text[end:], nil
		}
		from, to = named+"\n", ""
		if strings.Count(text, from) != 1 {
			return "", fmt.Errorf("constraint %s not found once in %s", ch.name, ch.table)
		}
		return strings.Replace(text, from, to, 1), nil
	}
	from, to = "CHECK ("+from+")", "CHECK ("+to+")"
	if n := strings.Count(text, from); n != 1 {
		return "", fmt.Errorf("constraint %s of %s: found %d times, want once", ch.name, ch.table, n)
	}
	return strings.Replace(text, from, to, 1), nil
}
