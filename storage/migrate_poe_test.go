package storage_test

import (
	"context"
	"testing"
	"time"

	"cpor/models"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
)

// TestExecutedOnMigrationKeepsTheUploadDay: migration 5 gives the documents
// already attached the day they were uploaded (UTC) as their execution day.
func TestExecutedOnMigrationKeepsTheUploadDay(t *testing.T) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			w := testkit.New(t, d)
			ctx, log := context.Background(), storagetest.Logger(t)
			if err := storage.MigrateDownTo(ctx, w.DB, log, 4); err != nil {
				t.Fatal(err)
			}
			var ids []string
			if err := w.DB.Table("documents").Order("id").Pluck("id", &ids).Error; err != nil || len(ids) < 2 {
				t.Fatalf("demo documents: %v %v", ids, err)
			}
			// Late in a UTC day: a conversion through another zone would
			// move it.
			past := time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC)
			if err := w.DB.Table("documents").Where("id = ?", ids[0]).Update("uploaded_at", past).Error; err != nil {
				t.Fatal(err)
			}
			if err := storage.Migrate(ctx, w.DB, log); err != nil {
				t.Fatal(err)
			}
			var docs []models.Document
			if err := w.DB.Find(&docs).Error; err != nil {
				t.Fatal(err)
			}
			for _, doc := range docs {
				if want := models.DateOf(doc.UploadedAt); doc.ExecutedOn != want {
					t.Errorf("document uploaded %s: executed on %s; want %s", doc.UploadedAt, doc.ExecutedOn, want)
				}
				if doc.ID.String() == ids[0] && doc.ExecutedOn.String() != "2024-02-29" {
					t.Errorf("backdated document: executed on %s", doc.ExecutedOn)
				}
			}
		})
	}
}
