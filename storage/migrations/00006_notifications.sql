-- Notifications (package notify): the in-app inbox, the people who receive
-- e-mail and their preferences, webhook endpoints, and the outbox of
-- deliveries the dispatcher sends. Notifications and their deliveries are
-- written in the transaction of the claim event that causes them.

-- +goose Up
-- One row per audience an event concerns: the partner admins of an
-- organisation, the reviewers, the customer admins of a tenant, the
-- operators. Every member of the audience sees it in their inbox.
CREATE TABLE notifications (
    id          {{uuid}} PRIMARY KEY,
    audience    TEXT NOT NULL CHECK (audience IN ('PARTNER_ADMINS', 'REVIEWERS', 'CUSTOMER_ADMINS', 'OPERATORS')),
    -- The organisation (partner admins) or tenant (customer admins).
    audience_id {{uuid}},
    kind        TEXT NOT NULL CHECK (kind <> ''),
    claim_id    {{uuid}} REFERENCES claims (id),
    claim_name  TEXT NOT NULL DEFAULT '',
    claim_status TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    next_step   TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL,
    CHECK ((audience IN ('REVIEWERS', 'OPERATORS')) = (audience_id IS NULL))
);
-- An inbox: an audience's notifications, newest first.
CREATE INDEX notifications_inbox ON notifications (audience, audience_id, created_at DESC, id DESC);

-- Who has read what. A notification with no row here is unread for that user.
CREATE TABLE notification_reads (
    notification_id {{uuid}} NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    read_at         {{timestamp}} NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);

-- The people the service can e-mail: learnt from their tokens, with their
-- choice of channel.
CREATE TABLE notification_recipients (
    user_id          TEXT PRIMARY KEY,
    email            TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL DEFAULT '',
    organization_id  {{uuid}},
    tenant_id        {{uuid}},
    reviewer         BOOLEAN NOT NULL DEFAULT FALSE,
    operator         BOOLEAN NOT NULL DEFAULT FALSE,
    preference       TEXT NOT NULL DEFAULT 'EMAIL_IMMEDIATE'
        CHECK (preference IN ('IN_APP_ONLY', 'EMAIL_IMMEDIATE', 'DAILY_DIGEST')),
    -- The digest has covered notifications created before this moment.
    digest_through   {{timestamp}},
    updated_at       {{timestamp}} NOT NULL
);
CREATE INDEX notification_recipients_org ON notification_recipients (organization_id) WHERE organization_id IS NOT NULL;
CREATE INDEX notification_recipients_tenant ON notification_recipients (tenant_id) WHERE tenant_id IS NOT NULL;

-- HTTPS endpoints that receive signed deliveries: an organisation's (its
-- own claims) or an operator's (organization_id NULL: every claim).
CREATE TABLE webhook_endpoints (
    id                    {{uuid}} PRIMARY KEY,
    organization_id       {{uuid}} REFERENCES partner_organizations (id),
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    -- Comma-separated notification kinds, each between commas: ",A,B,".
    event_types           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    -- After a rotation the old secret signs too, until it retires.
    previous_secret       TEXT NOT NULL DEFAULT '',
    previous_secret_until {{timestamp}},
    created_by            TEXT NOT NULL,
    created_at            {{timestamp}} NOT NULL,
    updated_at            {{timestamp}} NOT NULL,
    -- Set at the first failure after a success; cleared by a success.
    failing_since         {{timestamp}},
    disabled_at           {{timestamp}},
    disabled_reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id);

-- The outbox: one row per message to send, e-mail to a person or a webhook
-- call to an endpoint. Its id is the idempotency key receivers see.
CREATE TABLE deliveries (
    id              {{uuid}} PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('EMAIL', 'WEBHOOK')),
    notification_id {{uuid}} REFERENCES notifications (id),
    -- A user id (e-mail) or a webhook endpoint id.
    recipient       TEXT NOT NULL,
    -- An e-mail address, or a webhook event type.
    address         TEXT NOT NULL DEFAULT '',
    -- A webhook's JSON body, fixed when written so every attempt sends the
    -- same bytes; a digest's list of notifications.
    payload         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{timestamp}} NOT NULL,
    -- A dispatcher holds the row until then while it sends.
    leased_until    {{timestamp}},
    -- No attempt starts after this moment; the row is then FAILED.
    give_up_at      {{timestamp}} NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      {{timestamp}} NOT NULL,
    delivered_at    {{timestamp}}
);
-- What the dispatcher reads: the pending rows, oldest due first.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'PENDING';
CREATE INDEX deliveries_recipient ON deliveries (recipient, created_at DESC);

-- Every attempt to send a delivery, for webhookDeliveries.
CREATE TABLE delivery_attempts (
    id           {{serial}},
    delivery_id  {{uuid}} NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at {{timestamp}} NOT NULL,
    latency_ms   INTEGER NOT NULL,
    -- The HTTP status of a webhook's answer; NULL when none came.
    status_code  INTEGER,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE notification_recipients;
DROP TABLE notification_reads;
DROP TABLE notifications;
