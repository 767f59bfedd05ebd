-- The schema, written once for both databases. storage renders the column
-- type markers (uuid, timestamp, blob, serial) and the dialect blocks before
-- goose runs the file (see storage/migrate.go).

-- +goose Up
CREATE TABLE partner_organizations (
    id          {{uuid}} PRIMARY KEY,
    name        TEXT NOT NULL CHECK (name <> ''),
    created_at  {{timestamp}} NOT NULL
);

CREATE TABLE mpns (
    id                  {{uuid}} PRIMARY KEY,
    organization_id     {{uuid}} NOT NULL REFERENCES partner_organizations (id),
    partner_location_id BIGINT NOT NULL UNIQUE CHECK (partner_location_id > 0),
    name                TEXT NOT NULL,
    location            TEXT NOT NULL DEFAULT '',
    partner_type        TEXT NOT NULL DEFAULT '',
    enrolled_at         {{timestamp}},
    enrolled_by         TEXT NOT NULL DEFAULT '',
    created_at          {{timestamp}} NOT NULL
);
CREATE INDEX mpns_organization ON mpns (organization_id);

CREATE TABLE customer_tenants (
    id           {{uuid}} PRIMARY KEY,
    display_name TEXT NOT NULL CHECK (display_name <> ''),
    created_at   {{timestamp}} NOT NULL,
    updated_at   {{timestamp}} NOT NULL
);

CREATE TABLE tenant_domains (
    domain     TEXT PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    tenant_id  {{uuid}} NOT NULL REFERENCES customer_tenants (id) ON DELETE CASCADE,
    is_initial BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);
CREATE UNIQUE INDEX tenant_domains_one_initial ON tenant_domains (tenant_id) WHERE is_initial;

CREATE TABLE products (
    id            {{uuid}} PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    solution_area TEXT NOT NULL CHECK (solution_area IN ('BUSINESS_APPLICATIONS', 'MICROSOFT_365')),
    kind          TEXT NOT NULL CHECK (kind IN ('PRODUCT', 'WORKLOAD')),
    dynamics      BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (NOT dynamics OR solution_area = 'BUSINESS_APPLICATIONS')
);

CREATE TABLE tenant_workloads (
    tenant_id  {{uuid}} NOT NULL REFERENCES customer_tenants (id) ON DELETE CASCADE,
    product_id {{uuid}} NOT NULL REFERENCES products (id),
    created_at {{timestamp}} NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);

CREATE TABLE subscriptions (
    id                 {{uuid}} PRIMARY KEY,
    tenant_id          {{uuid}} NOT NULL REFERENCES customer_tenants (id),
    product_id         {{uuid}} NOT NULL REFERENCES products (id),
    order_id           {{uuid}},
    channel            TEXT NOT NULL CHECK (channel IN ('VOLUME_LICENSING', 'WEB_DIRECT', 'CSP')),
    provisioning_state TEXT NOT NULL CHECK (provisioning_state IN ('PENDING', 'PROVISIONED')),
    status             TEXT NOT NULL CHECK (status IN ('ACTIVE', 'IN_GRACE', 'EXPIRED', 'SUSPENDED', 'DISABLED', 'DELETED')),
    starts_at          {{timestamp}} NOT NULL,
    ends_at            {{timestamp}},
    created_at         {{timestamp}} NOT NULL,
    updated_at         {{timestamp}} NOT NULL
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, product_id);
CREATE INDEX subscriptions_order ON subscriptions (order_id);

CREATE TABLE arbitration_cases (
    id                    {{uuid}} PRIMARY KEY,
    customer_tenant_id    {{uuid}} NOT NULL REFERENCES customer_tenants (id),
    product_id            {{uuid}} NOT NULL REFERENCES products (id),
    activity              TEXT NOT NULL CHECK (activity IN ('PRESALES', 'USAGE', 'REVENUE_ASSOCIATION')),
    status                TEXT NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
    -- Claims and associations reference cases and cases reference them back;
    -- PostgreSQL adds these two keys once the tables exist (below), SQLite
    -- accepts the forward reference here.
    holder_association_id {{uuid}}{{if not .Postgres}} REFERENCES associations (id){{end}},
    winning_claim_id      {{uuid}}{{if not .Postgres}} REFERENCES claims (id){{end}},
    resolution            TEXT NOT NULL DEFAULT '',
    resolved_by           TEXT NOT NULL DEFAULT '',
    opened_at             {{timestamp}} NOT NULL,
    resolved_at           {{timestamp}},
    CHECK ((status = 'OPEN') = (resolved_at IS NULL))
);
-- All competing claims on one customer, product and activity form one case.
CREATE UNIQUE INDEX arbitration_cases_one_open
    ON arbitration_cases (customer_tenant_id, product_id, activity) WHERE status = 'OPEN';

CREATE TABLE claims (
    id                     {{uuid}} PRIMARY KEY,
    organization_id        {{uuid}} NOT NULL REFERENCES partner_organizations (id),
    mpn_id                 {{uuid}} REFERENCES mpns (id),
    solution_area          TEXT NOT NULL CHECK (solution_area IN ('BUSINESS_APPLICATIONS', 'MICROSOFT_365')),
    activity               TEXT NOT NULL CHECK (activity IN ('PRESALES', 'USAGE', 'REVENUE_ASSOCIATION')),
    customer_tenant_id     {{uuid}} NOT NULL REFERENCES customer_tenants (id),
    customer_domain        TEXT NOT NULL,
    product_id             {{uuid}} REFERENCES products (id),
    subscription_id        {{uuid}} REFERENCES subscriptions (id),
    customer_contact_name  TEXT NOT NULL DEFAULT '',
    customer_contact_title TEXT NOT NULL DEFAULT '',
    customer_contact_email TEXT NOT NULL DEFAULT '',
    partner_contact_name   TEXT NOT NULL DEFAULT '',
    partner_contact_email  TEXT NOT NULL DEFAULT '',
    notes                  TEXT NOT NULL DEFAULT '',
    status                 TEXT NOT NULL CHECK (status IN ('DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED', 'REJECTED')),
    version                INTEGER NOT NULL CHECK (version >= 1),
    reclaimed_from_id      {{uuid}} REFERENCES claims (id),
    arbitration_case_id    {{uuid}} REFERENCES arbitration_cases (id),
    created_by             TEXT NOT NULL,
    submitted_at           {{timestamp}},
    review_due_at          {{timestamp}},
    decided_at             {{timestamp}},
    decision_reason        TEXT NOT NULL DEFAULT '',
    created_at             {{timestamp}} NOT NULL,
    updated_at             {{timestamp}} NOT NULL,
    -- Microsoft 365 claims are for usage only (docs/product.md §3.2).
    CHECK (solution_area = 'BUSINESS_APPLICATIONS' OR activity = 'USAGE'),
    -- Past the draft, a claim is complete.
    CHECK (status = 'DRAFT' OR (mpn_id IS NOT NULL AND product_id IS NOT NULL
        AND submitted_at IS NOT NULL AND review_due_at IS NOT NULL)),
    CHECK (status = 'DRAFT' OR solution_area = 'MICROSOFT_365' OR subscription_id IS NOT NULL),
    CHECK (status <> 'ARBITRATION' OR arbitration_case_id IS NOT NULL),
    CHECK ((status IN ('APPROVED', 'REJECTED')) = (decided_at IS NOT NULL)),
    CHECK (status <> 'REJECTED' OR decision_reason <> '')
);
CREATE INDEX claims_organization ON claims (organization_id, created_at, id);
CREATE INDEX claims_created ON claims (created_at, id);
CREATE INDEX claims_updated ON claims (updated_at, id);
CREATE INDEX claims_status_due ON claims (status, review_due_at);
CREATE INDEX claims_competition ON claims (customer_tenant_id, product_id, activity, status);
CREATE INDEX claims_case ON claims (arbitration_case_id);
-- One open or approved claim per organisation, subscription and activity
-- (Business Applications), or per organisation, customer, workload and
-- activity (Microsoft 365, which claims no subscription).
CREATE UNIQUE INDEX claims_one_holding_per_subscription
    ON claims (organization_id, subscription_id, activity)
    WHERE subscription_id IS NOT NULL AND status IN ('SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED');
CREATE UNIQUE INDEX claims_one_holding_per_workload
    ON claims (organization_id, customer_tenant_id, product_id, activity)
    WHERE subscription_id IS NULL AND status IN ('SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED');

CREATE TABLE documents (
    id           {{uuid}} PRIMARY KEY,
    claim_id     {{uuid}} NOT NULL REFERENCES claims (id),
    file_name    TEXT NOT NULL CHECK (file_name <> ''),
    content_type TEXT NOT NULL CHECK (content_type <> ''),
    size_bytes   BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    uploaded_by  TEXT NOT NULL,
    uploaded_at  {{timestamp}} NOT NULL
);
CREATE INDEX documents_claim ON documents (claim_id, uploaded_at);

CREATE TABLE document_contents (
    document_id {{uuid}} PRIMARY KEY REFERENCES documents (id),
    content     {{blob}} NOT NULL
);

CREATE TABLE comments (
    id          {{uuid}} PRIMARY KEY,
    claim_id    {{uuid}} NOT NULL REFERENCES claims (id),
    kind        TEXT NOT NULL CHECK (kind IN ('PARTNER', 'REVIEWER', 'SYSTEM', 'INFORMATION_REQUEST')),
    author_id   TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body        TEXT NOT NULL CHECK (body <> ''),
    created_at  {{timestamp}} NOT NULL
);
CREATE INDEX comments_claim ON comments (claim_id, created_at, id);

CREATE TABLE associations (
    id                 {{uuid}} PRIMARY KEY,
    claim_id           {{uuid}} NOT NULL UNIQUE REFERENCES claims (id),
    organization_id    {{uuid}} NOT NULL REFERENCES partner_organizations (id),
    customer_tenant_id {{uuid}} NOT NULL REFERENCES customer_tenants (id),
    product_id         {{uuid}} NOT NULL REFERENCES products (id),
    subscription_id    {{uuid}} REFERENCES subscriptions (id),
    activity           TEXT NOT NULL CHECK (activity IN ('PRESALES', 'USAGE', 'REVENUE_ASSOCIATION')),
    started_at         {{timestamp}} NOT NULL,
    ended_at           {{timestamp}},
    end_reason         TEXT CHECK (end_reason IN ('ARBITRATION_LOST', 'CUSTOMER_DECLINED', 'SUPERSEDED')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
-- One partner of record per customer, product or workload, and activity.
CREATE UNIQUE INDEX associations_one_active
    ON associations (customer_tenant_id, product_id, activity) WHERE ended_at IS NULL;
CREATE INDEX associations_tenant ON associations (customer_tenant_id, started_at);

CREATE TABLE claim_events (
    seq             {{serial}},
    claim_id        {{uuid}} NOT NULL REFERENCES claims (id),
    organization_id {{uuid}} NOT NULL REFERENCES partner_organizations (id),
    type            TEXT NOT NULL CHECK (type IN ('CREATED', 'UPDATED', 'STATUS_CHANGED', 'COMMENT_ADDED',
                        'DOCUMENT_ATTACHED', 'CUSTOMER_NOTIFIED', 'ASSOCIATION_ENDED', 'RECLAIMED')),
    event           TEXT NOT NULL DEFAULT '',
    from_status     TEXT CHECK (from_status IN ('DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED', 'REJECTED')),
    to_status       TEXT CHECK (to_status IN ('DRAFT', 'SUBMITTED', 'UNDER_REVIEW', 'ARBITRATION', 'APPROVED', 'REJECTED')),
    version         INTEGER NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('PARTNER', 'REVIEWER', 'OPERATOR', 'CUSTOMER', 'SYSTEM')),
    reason          TEXT NOT NULL DEFAULT '',
    comment_id      {{uuid}} REFERENCES comments (id),
    document_id     {{uuid}} REFERENCES documents (id),
    created_at      {{timestamp}} NOT NULL,
    CHECK (type <> 'STATUS_CHANGED' OR (from_status IS NOT NULL AND to_status IS NOT NULL))
);
CREATE INDEX claim_events_claim ON claim_events (claim_id, seq);

{{if .Postgres}}
ALTER TABLE arbitration_cases
    ADD FOREIGN KEY (holder_association_id) REFERENCES associations (id),
    ADD FOREIGN KEY (winning_claim_id) REFERENCES claims (id);
{{end}}

-- Audit rows are written once and never changed.
{{if .Postgres}}
-- +goose StatementBegin
CREATE FUNCTION claim_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'claim events are immutable';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER claim_events_no_update BEFORE UPDATE OR DELETE ON claim_events
    FOR EACH ROW EXECUTE FUNCTION claim_events_immutable();
{{else}}
-- +goose StatementBegin
CREATE TRIGGER claim_events_no_update BEFORE UPDATE ON claim_events
BEGIN
    SELECT RAISE(ABORT, 'claim events are immutable');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER claim_events_no_delete BEFORE DELETE ON claim_events
BEGIN
    SELECT RAISE(ABORT, 'claim events are immutable');
END;
-- +goose StatementEnd
{{end}}

-- +goose Down
DROP TABLE claim_events;
{{if .Postgres}}ALTER TABLE arbitration_cases DROP CONSTRAINT arbitration_cases_holder_association_id_fkey, DROP CONSTRAINT arbitration_cases_winning_claim_id_fkey;{{end}}
{{if .Postgres}}DROP FUNCTION claim_events_immutable;{{end}}
DROP TABLE associations;
DROP TABLE comments;
DROP TABLE document_contents;
DROP TABLE documents;
DROP TABLE claims;
DROP TABLE arbitration_cases;
DROP TABLE subscriptions;
DROP TABLE tenant_workloads;
DROP TABLE products;
DROP TABLE tenant_domains;
DROP TABLE customer_tenants;
DROP TABLE mpns;
DROP TABLE partner_organizations;
