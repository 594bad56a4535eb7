-- The first schema of signalscrape on PostgreSQL. Durations are nanoseconds.

CREATE TABLE works (
    id         text        PRIMARY KEY,
    ord        bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    status     text        NOT NULL,
    total      bigint      NOT NULL,
    filename   text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    last_seq   bigint      NOT NULL
);

CREATE INDEX works_newest ON works (created_at DESC, ord DESC);

CREATE INDEX works_unfinished ON works (ord)
    WHERE status NOT IN ('completed', 'completed_with_errors', 'failed', 'cancelled');

CREATE TABLE events (
    work_id text        NOT NULL REFERENCES works (id),
    seq     bigint      NOT NULL,
    at      timestamptz NOT NULL,
    kind    text        NOT NULL,
    data    bytea       NOT NULL,
    PRIMARY KEY (work_id, seq)
);

CREATE TABLE profiles (
    source     text        NOT NULL,
    donor_id   text        NOT NULL,
    outcome    text        NOT NULL CHECK (outcome IN ('found', 'not_found')),
    body       bytea,
    sha256     text        NOT NULL,
    url        text        NOT NULL,
    fetched_at timestamptz NOT NULL,
    PRIMARY KEY (source, donor_id)
);

CREATE TABLE limits (
    id              integer     PRIMARY KEY CHECK (id = 1),
    min_interval_ns bigint      NOT NULL,
    max_interval_ns bigint      NOT NULL,
    max_concurrency integer     NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE blobs (
    key          text        PRIMARY KEY,
    content_type text        NOT NULL,
    data         bytea       NOT NULL,
    created_at   timestamptz NOT NULL
);
