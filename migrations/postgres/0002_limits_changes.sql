-- Every change of the politeness limits, so that a work can tell under which
-- limits it ran. The table limits keeps the ones in force. Durations are
-- nanoseconds; seq orders changes at one instant.

CREATE TABLE limits_changes (
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    min_interval_ns bigint      NOT NULL,
    max_interval_ns bigint      NOT NULL,
    max_concurrency integer     NOT NULL
);

CREATE INDEX limits_changes_at ON limits_changes (at, seq);

-- The limits stored before this migration are a change at the time they
-- were stored.
INSERT INTO limits_changes (at, min_interval_ns, max_interval_ns, max_concurrency)
SELECT updated_at, min_interval_ns, max_interval_ns, max_concurrency FROM limits;
