-- A claim's name, the indexes of claim search, and the indexes of the sorts
-- by submission and decision time (docs/search-and-export.md).

-- +goose Up
ALTER TABLE claims ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- Sorting by submission or decision time puts the claims without one
-- (drafts, open claims) last in both directions, then breaks ties by id.
-- PostgreSQL reads ascending order (NULLS LAST, its default) and its
-- reverse from the first index and descending order with NULLS LAST from
-- the second. SQLite, whose NULLs sort first, gets the same two indexes by
-- name; its planner sorts where an index does not fit.
CREATE INDEX claims_submitted ON claims (submitted_at, id);
CREATE INDEX claims_submitted_desc ON claims (submitted_at DESC{{if .Postgres}} NULLS LAST{{end}}, id DESC);
CREATE INDEX claims_decided ON claims (decided_at, id);
CREATE INDEX claims_decided_desc ON claims (decided_at DESC{{if .Postgres}} NULLS LAST{{end}}, id DESC);

{{if .Postgres}}
-- Search is a case-insensitive substring match (ILIKE '%…%'). A B-tree
-- cannot serve a pattern with a leading wildcard, and full-text search
-- matches words, not parts of them ("toso" would not find "Contoso").
-- pg_trgm's GIN indexes serve ILIKE '%…%' for patterns of three or more
-- characters, so the search fields get one each.
--
-- pg_trgm ships with PostgreSQL's contrib package and is a trusted
-- extension (PostgreSQL 13+: a database owner may create it). Where it is
-- missing or may not be created, the migration still succeeds without the
-- indexes: search then scans, which is correct and only slower. The
-- indexes are named *_trgm; the schema-shape test leaves them out, as
-- SQLite has no counterpart.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%); claim search will run without trigram indexes', SQLERRM;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX claims_name_trgm ON claims USING gin (name gin_trgm_ops);
        CREATE INDEX claims_customer_domain_trgm ON claims USING gin (customer_domain gin_trgm_ops);
        CREATE INDEX customer_tenants_display_name_trgm ON customer_tenants USING gin (display_name gin_trgm_ops);
        CREATE INDEX tenant_domains_domain_trgm ON tenant_domains USING gin (domain gin_trgm_ops);
        CREATE INDEX partner_organizations_name_trgm ON partner_organizations USING gin (name gin_trgm_ops);
    END IF;
END
$$;
-- +goose StatementEnd
{{end}}

-- +goose Down
{{if .Postgres}}
-- The extension stays: other schemas may use it, and it holds no data.
DROP INDEX IF EXISTS claims_name_trgm;
DROP INDEX IF EXISTS claims_customer_domain_trgm;
DROP INDEX IF EXISTS customer_tenants_display_name_trgm;
DROP INDEX IF EXISTS tenant_domains_domain_trgm;
DROP INDEX IF EXISTS partner_organizations_name_trgm;
{{end}}
DROP INDEX claims_decided_desc;
DROP INDEX claims_decided;
DROP INDEX claims_submitted_desc;
DROP INDEX claims_submitted;
ALTER TABLE claims DROP COLUMN name;
