package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/internal/record"
)

// Statements of the limits. The two writes take the same arguments: the
// intervals in nanoseconds, the concurrency and the time.
const (
	upsertLimitsSQL = `INSERT INTO limits (id, min_interval_ns, max_interval_ns, max_concurrency, updated_at)
VALUES (1, $1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET min_interval_ns = excluded.min_interval_ns,
max_interval_ns = excluded.max_interval_ns, max_concurrency = excluded.max_concurrency,
updated_at = excluded.updated_at`
	insertLimitsChangeSQL = `INSERT INTO limits_changes (min_interval_ns, max_interval_ns, max_concurrency, at)
VALUES ($1, $2, $3, $4)`
	limitsHistorySQL = `SELECT at, min_interval_ns, max_interval_ns, max_concurrency FROM limits_changes
WHERE (at > $1 AND at <= $2) OR seq = (
    SELECT seq FROM limits_changes WHERE at <= $1 ORDER BY at DESC, seq DESC LIMIT 1)
ORDER BY at, seq`
)

// Limits returns the stored limits, or persistence.ErrNotFound.
func (s *Store) Limits(ctx context.Context) (persistence.Limits, error) {
	const q = `SELECT min_interval_ns, max_interval_ns, max_concurrency FROM limits WHERE id = 1`
	var minNs, maxNs int64
	var l persistence.Limits
	err := s.pool.QueryRow(ctx, q).Scan(&minNs, &maxNs, &l.MaxConcurrency)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("reading limits: %w", persistence.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("reading limits: %w", err)
	}
	l.MinInterval, l.MaxInterval = time.Duration(minNs), time.Duration(maxNs)
	return l, nil
}

// SetLimits stores the limits and records the change, in one transaction.
// The change is stamped by this node's clock, as the works are, so that a
// work's times and the changes compare. Changes made at once on several
// members take turns, and none is stamped before the last one recorded, so
// the newest change in the history is the one in force whatever the
// members' clocks say.
func (s *Store) SetLimits(ctx context.Context, l persistence.Limits) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, limitsLockKey); err != nil {
			return err
		}
		var last *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(at) FROM limits_changes`).Scan(&last); err != nil {
			return err
		}
		at := record.Millis(time.Now())
		if last != nil && last.After(at) {
			at = *last
		}
		for _, q := range []string{upsertLimitsSQL, insertLimitsChangeSQL} {
			_, err := tx.Exec(ctx, q, int64(l.MinInterval), int64(l.MaxInterval), l.MaxConcurrency, at)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing limits: %w", err)
	}
	return nil
}

// LimitsHistory returns the change in force at from, if any, and the
// changes after it up to and including to, oldest first.
func (s *Store) LimitsHistory(ctx context.Context, from, to time.Time) ([]persistence.LimitsChange, error) {
	rows, err := s.pool.Query(ctx, limitsHistorySQL, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading limits history: %w", err)
	}
	changes, err := pgx.CollectRows(rows, scanLimitsChange)
	if err != nil {
		return nil, fmt.Errorf("reading limits history: %w", err)
	}
	return changes, nil
}

// scanLimitsChange reads one row of limitsHistorySQL.
func scanLimitsChange(row pgx.CollectableRow) (persistence.LimitsChange, error) {
	var minNs, maxNs int64
	var c persistence.LimitsChange
	if err := row.Scan(&c.At, &minNs, &maxNs, &c.Limits.MaxConcurrency); err != nil {
		return c, err
	}
	c.At = c.At.UTC()
	c.Limits.MinInterval, c.Limits.MaxInterval = time.Duration(minNs), time.Duration(maxNs)
	return c, nil
}
