package claims_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
)

// A filter's lists are bounded and checked before any SQL: 50,001 statuses
// used to be more parameters than either database takes (INTERNAL).
func TestListFilterListsAreBounded(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		rita := testkit.As("rita")
		statuses := make([]models.ClaimStatus, 50001)
		for i := range statuses {
			statuses[i] = models.Submitted
		}
		activities := make([]models.Activity, relay.MaxListValues+1)
		for i := range activities {
			activities[i] = models.Usage
		}
		_, err := k.w.Claims.List(rita, claims.Filter{Statuses: statuses}, claims.Order{}, relay.Args{})
		wantCode(t, err, apperr.InvalidInput, "filter.status")
		_, err = k.w.Claims.List(rita, claims.Filter{Statuses: statuses, Activities: activities}, claims.Order{}, relay.Args{})
		wantCode(t, err, apperr.InvalidInput, "filter.activity")
		_, err = k.w.Claims.List(rita, claims.Filter{Activities: []models.Activity{"CONSULTING"}}, claims.Order{}, relay.Args{})
		wantCode(t, err, apperr.InvalidInput, "filter.activity")
		// At the limit, the list runs.
		conn, err := k.w.Claims.List(rita, claims.Filter{Statuses: statuses[:relay.MaxListValues]}, claims.Order{}, relay.Args{})
		if err != nil || len(conn.Items) == 0 {
			t.Fatalf("a filter of %d statuses: %v", relay.MaxListValues, err)
		}
	})
}

// A cursor whose key is not a UUID is INVALID_INPUT on the argument; it
// used to reach PostgreSQL, which failed on it (INTERNAL).
func TestListRefusesForgedCursors(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		rita := testkit.As("rita")
		forged := relay.Cursor{Time: time.Now(), Key: "not-a-uuid"}.Encode()
		_, err := k.w.Claims.List(rita, claims.Filter{}, claims.Order{}, relay.Args{After: &forged})
		wantCode(t, err, apperr.InvalidInput, "after")
		c := k.demoClaim(demo.Contoso, models.UnderReview)
		for name, list := range map[string]func(args relay.Args) error{
			"comments": func(a relay.Args) error { _, err := claims.CommentList.Pages(k.w.DB, []uuid.UUID{c.ID}, a); return err },
			"documents": func(a relay.Args) error {
				_, err := claims.DocumentList.Pages(k.w.DB, []uuid.UUID{c.ID}, a)
				return err
			},
			"history": func(a relay.Args) error { _, err := claims.EventList.Pages(k.w.DB, []uuid.UUID{c.ID}, a); return err },
		} {
			wantCode(t, list(relay.Args{Before: &forged}), apperr.InvalidInput, "before")
			if err := list(relay.Args{}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}
