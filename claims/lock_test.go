package claims_test

import (
	"context"
	"testing"

	"cpor/apperr"
	"cpor/claims"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
)

// LoadForChange takes the same competition-key lock as storage.LockKey on
// claims.CompetitionKey (which arbitration and declines take without a
// claim), and the claim's row lock, in its one statement.
func TestLoadForChangeTakesTheCompetitionLock(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	claimID := testkit.SubmitFreshClaim(t, w, "ada", "lockcheck")
	ada := testkit.Identity("ada")
	ctx := context.Background()
	err := storage.InTx(ctx, w.DB, func(tx *storage.Tx) error {
		c, err := claims.LoadForChange(tx.DB, &ada, claimID, claims.Change{CompetitionLock: true, CountDocuments: true})
		if err != nil {
			return err
		}
		if c.ID != claimID || c.Documents != 1 || c.Status != models.Submitted {
			t.Errorf("read %+v with %d documents", c.Claim, c.Documents)
		}
		key := claims.CompetitionKey(c.CustomerTenantID, *c.ProductID, c.Activity)
		other := storage.InTx(ctx, w.DB, func(tx *storage.Tx) error {
			if err := tx.Exec("SET LOCAL lock_timeout = '200ms'").Error; err != nil {
				return err
			}
			return storage.LockKey(tx.DB, key...)
		})
		if other == nil {
			t.Error("another transaction took the competition lock the claim's change holds")
		}
		rowLocked := storage.InTx(ctx, w.DB, func(tx *storage.Tx) error {
			if err := tx.Exec("SET LOCAL lock_timeout = '200ms'").Error; err != nil {
				return err
			}
			_, err := claims.Load(tx.DB, &ada, claimID, true)
			return err
		})
		if rowLocked == nil {
			t.Error("another transaction locked the claim's row the change holds")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A claim of another organisation is NOT_FOUND to a change, as to a read.
func TestLoadForChangeHidesOtherOrganisationsClaims(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		claimID := testkit.SubmitFreshClaim(t, k.w, "ada", "hidden")
		other := testkit.Identity("fiona")
		err := storage.InTx(context.Background(), k.w.DB, func(tx *storage.Tx) error {
			_, err := claims.LoadForChange(tx.DB, &other, claimID, claims.Change{CompetitionLock: true})
			return err
		})
		if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("want NOT_FOUND, got %v", err)
		}
	})
}
