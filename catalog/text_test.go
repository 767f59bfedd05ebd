package catalog_test

// An operator's free text and lists keep their rules: bad text or a list
// over its limit is INVALID_INPUT on the field, every problem at once,
// before anything is read or written.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/models"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/textrule"
)

func badLine(k textrule.Kind) map[string]string {
	return map[string]string{
		"NUL":                "Wood\x00grove",
		"escape":             "Wood\x1bgrove",
		"C1 control":         "Wood\u0085grove",
		"direction override": "Wood\u202egrove",
		"invalid UTF-8":      "Wood\xffgrove",
		"line break":         "Wood\ngrove",
		"tab":                "Wood\tgrove",
		"over the limit":     strings.Repeat("x", k.MaxChars+1),
	}
}

// wantInvalidOn fails unless err carries INVALID_INPUT on every field.
func wantInvalidOn(t *testing.T, err error, fields ...string) {
	t.Helper()
	list, _ := apperr.All(err)
	for _, field := range fields {
		found := false
		for _, e := range list {
			found = found || (e.Code == apperr.InvalidInput && e.Field == field && e.Message != "")
		}
		if !found {
			t.Errorf("error %v; want INVALID_INPUT on %s", err, field)
		}
	}
}

func TestOperatorTextIsChecked(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		oscar := testkit.As("oscar")
		tenant := func(name string, domains []string, workloads []uuid.UUID) error {
			_, err := w.Catalog.UpsertTenant(oscar, catalog.TenantInput{
				TenantID: uuid.New(), DisplayName: name, Domains: domains, WorkloadIDs: workloads,
			})
			return err
		}
		product := func(code, name string) error {
			_, err := w.Catalog.UpsertProduct(oscar, catalog.ProductInput{
				Code: code, Name: name, SolutionArea: models.Microsoft365, Kind: models.KindWorkload,
			})
			return err
		}
		initial := []string{"text-test.onmicrosoft.com"}
		before := w.Snapshot(t)
		for _, text := range badLine(textrule.Name) {
			wantInvalidOn(t, tenant(text, initial, nil), "displayName")
			wantInvalidOn(t, product("TEXT_TEST", text), "name")
		}
		for name, text := range badLine(textrule.Code) {
			if err := product(text, "Text test"); !apperr.Is(err, apperr.InvalidInput) {
				t.Errorf("product code with %s: %v", name, err)
			}
			wantInvalidOn(t, product(text, "Text test"), "code")
		}
		// Lists over their limits, with every other problem at once.
		domains := make([]string, catalog.MaxTenantDomains+1)
		for i := range domains {
			domains[i] = fmt.Sprintf("d%d.example", i)
		}
		workloads := make([]uuid.UUID, catalog.MaxTenantWorkloads+1)
		for i := range workloads {
			workloads[i] = uuid.New()
		}
		wantInvalidOn(t, tenant("", domains, workloads), "displayName", "domains", "workloadIds")
		wantInvalidOn(t, product("", "\x00"), "code", "name")
		w.Unchanged(t, before, "operator input with bad text")

		// At the limits, the same input is saved.
		name := strings.Repeat("ñ", textrule.Name.MaxChars)
		if err := tenant(name, initial, workloads[:0]); err != nil {
			t.Fatalf("tenant with a name at the limit: %v", err)
		}
		if err := product(strings.Repeat("C", textrule.Code.MaxChars), name); err != nil {
			t.Fatalf("product at the limits: %v", err)
		}
	})
}

func TestOperatorTextIsCheckedAfterTheRole(t *testing.T) {
	w := testkit.New(t, storagetest.Dialects[0])
	_, err := w.Catalog.UpsertProduct(testkit.As("ada"), catalog.ProductInput{Code: "\x00", Name: "\x00"})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Forbidden {
		t.Fatalf("a partner upserting a product with bad text: %v; want FORBIDDEN", err)
	}
}
