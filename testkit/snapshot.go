package testkit

import (
	"fmt"
	"strings"
	"testing"
)

// dataTables are every table of the service's data (goose's own excepted).
var dataTables = []string{
	"partner_organizations", "mpns", "customer_tenants", "tenant_domains", "products", "tenant_workloads",
	"subscriptions", "arbitration_cases", "claims", "documents", "document_contents", "comments",
	"associations", "claim_events",
}

// Snapshot is every row of the service's tables as text, so that a test can
// tell that a refused call changed nothing at all: compare a snapshot taken
// before with one taken after.
func (w *World) Snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range dataTables {
		var rows []map[string]any
		if err := w.DB.Table(table).Order("1, 2").Find(&rows).Error; err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", table, len(rows))
		for _, r := range rows {
			fmt.Fprintln(&b, r) // fmt sorts a map's keys
		}
	}
	return b.String()
}

// Unchanged fails the test when the database differs from the snapshot
// taken before what did something (or should have done nothing).
func (w *World) Unchanged(t testing.TB, before, what string) {
	t.Helper()
	if after := w.Snapshot(t); after != before {
		t.Errorf("%s changed the database:\n%s", what, firstDifference(before, after))
	}
}

func firstDifference(before, after string) string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := 0; i < len(b) && i < len(a); i++ {
		if b[i] != a[i] {
			return fmt.Sprintf("before: %.300s\nafter:  %.300s", b[i], a[i])
		}
	}
	return fmt.Sprintf("before has %d lines, after %d", len(b), len(a))
}
