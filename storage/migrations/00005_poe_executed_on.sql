-- +goose Up
-- When the work a proof of execution shows was done (a day, no time zone).
-- Documents attached before it was asked for were, as far as anyone knows,
-- executed the day they were uploaded (uploaded_at is UTC).
{{if .Postgres}}
ALTER TABLE documents ADD COLUMN executed_on DATE;
UPDATE documents SET executed_on = CAST(uploaded_at AT TIME ZONE 'UTC' AS DATE);
ALTER TABLE documents ALTER COLUMN executed_on SET NOT NULL;
{{else}}
-- SQLite adds a NOT NULL column only with a default; every insert names it.
-- uploaded_at is stored as text that starts with the UTC day.
ALTER TABLE documents ADD COLUMN executed_on DATE NOT NULL DEFAULT '0001-01-01';
UPDATE documents SET executed_on = substr(uploaded_at, 1, 10);
{{end}}

-- +goose Down
ALTER TABLE documents DROP COLUMN executed_on;
