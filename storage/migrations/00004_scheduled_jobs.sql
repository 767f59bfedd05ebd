-- Time-driven work items run by package scheduler: a claim's response
-- deadline, a stale draft's expiry. A job is pending until it is done (with
-- the handler's outcome, or "cancelled") or has failed for good.

-- +goose Up
CREATE TABLE scheduled_jobs (
    id         {{serial}},
    kind       TEXT NOT NULL CHECK (kind <> ''),
    -- What the job is about (a claim); no foreign key, as kinds may be about
    -- different tables.
    subject    {{uuid}} NOT NULL,
    due_at     {{timestamp}} NOT NULL,
    -- Failed attempts since the job was last scheduled.
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL,
    done_at    {{timestamp}},
    failed_at  {{timestamp}},
    outcome    TEXT,
    CHECK (done_at IS NULL OR failed_at IS NULL),
    CHECK ((done_at IS NULL) = (outcome IS NULL))
);
-- At most one pending job per kind and subject: Schedule moves it instead of
-- adding a second.
CREATE UNIQUE INDEX scheduled_jobs_one_pending
    ON scheduled_jobs (kind, subject) WHERE done_at IS NULL AND failed_at IS NULL;
-- What a pass reads: the pending jobs, oldest due first.
CREATE INDEX scheduled_jobs_due
    ON scheduled_jobs (due_at, id) WHERE done_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE scheduled_jobs;
