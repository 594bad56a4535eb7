-- The first schema of signalscrape on SQLite. Times are Unix milliseconds,
-- durations nanoseconds.

CREATE TABLE works (
    ord        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    status     TEXT    NOT NULL,
    total      INTEGER NOT NULL,
    filename   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL
);

CREATE INDEX works_newest ON works (created_at DESC, ord DESC);

CREATE INDEX works_unfinished ON works (ord)
    WHERE status NOT IN ('completed', 'completed_with_errors', 'failed', 'cancelled');

CREATE TABLE events (
    work_id TEXT    NOT NULL REFERENCES works (id),
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (work_id, seq)
) WITHOUT ROWID;

CREATE TABLE profiles (
    source     TEXT    NOT NULL,
    donor_id   TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('found', 'not_found')),
    body       BLOB,
    sha256     TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (source, donor_id)
) WITHOUT ROWID;

CREATE TABLE limits (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    min_interval_ns INTEGER NOT NULL,
    max_interval_ns INTEGER NOT NULL,
    max_concurrency INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE blobs (
    key          TEXT    PRIMARY KEY,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
