package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

// Statements of the limits. The two writes take the same arguments: the
// intervals in nanoseconds, the concurrency and the time in Unix ms.
const (
	upsertLimitsSQL = `INSERT INTO limits (id, min_interval_ns, max_interval_ns, max_concurrency, updated_at)
VALUES (1, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET min_interval_ns = excluded.min_interval_ns,
max_interval_ns = excluded.max_interval_ns, max_concurrency = excluded.max_concurrency,
updated_at = excluded.updated_at`
	insertLimitsChangeSQL = `INSERT INTO limits_changes (min_interval_ns, max_interval_ns, max_concurrency, at)
VALUES (?, ?, ?, ?)`
	limitsHistorySQL = `SELECT at, min_interval_ns, max_interval_ns, max_concurrency FROM limits_changes
WHERE (at > ?1 AND at <= ?2) OR seq = (
    SELECT seq FROM limits_changes WHERE at <= ?1 ORDER BY at DESC, seq DESC LIMIT 1)
ORDER BY at, seq`
)

// Limits returns the stored limits, or persistence.ErrNotFound.
func (s *Store) Limits(ctx context.Context) (persistence.Limits, error) {
	const q = `SELECT min_interval_ns, max_interval_ns, max_concurrency FROM limits WHERE id = 1`
	var minNs, maxNs int64
	var l persistence.Limits
	err := s.read.QueryRowContext(ctx, q).Scan(&minNs, &maxNs, &l.MaxConcurrency)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("reading limits: %w", persistence.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("reading limits: %w", err)
	}
	l.MinInterval, l.MaxInterval = time.Duration(minNs), time.Duration(maxNs)
	return l, nil
}

// SetLimits stores the limits and records the change, in one transaction.
// No change is stamped before the last one recorded, so the newest change in
// the history is the one in force even if the clock steps back.
func (s *Store) SetLimits(ctx context.Context, l persistence.Limits) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storing limits: %w", err)
	}
	defer tx.Rollback()
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(at) FROM limits_changes`).Scan(&last); err != nil {
		return fmt.Errorf("storing limits: %w", err)
	}
	at := max(time.Now().UnixMilli(), last.Int64)
	for _, q := range []string{upsertLimitsSQL, insertLimitsChangeSQL} {
		_, err := tx.ExecContext(ctx, q, int64(l.MinInterval), int64(l.MaxInterval), l.MaxConcurrency, at)
		if err != nil {
			return fmt.Errorf("storing limits: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storing limits: %w", err)
	}
	return nil
}

// LimitsHistory returns the change in force at from, if any, and the
// changes after it up to and including to, oldest first.
func (s *Store) LimitsHistory(ctx context.Context, from, to time.Time) ([]persistence.LimitsChange, error) {
	rows, err := s.read.QueryContext(ctx, limitsHistorySQL, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("reading limits history: %w", err)
	}
	defer rows.Close()
	var changes []persistence.LimitsChange
	for rows.Next() {
		c, err := scanLimitsChange(rows)
		if err != nil {
			return nil, fmt.Errorf("reading limits history: %w", err)
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading limits history: %w", err)
	}
	return changes, nil
}

// scanLimitsChange reads one row of limitsHistorySQL.
func scanLimitsChange(rows *sql.Rows) (persistence.LimitsChange, error) {
	var at, minNs, maxNs int64
	var c persistence.LimitsChange
	if err := rows.Scan(&at, &minNs, &maxNs, &c.Limits.MaxConcurrency); err != nil {
		return c, err
	}
	c.At = time.UnixMilli(at).UTC()
	c.Limits.MinInterval, c.Limits.MaxInterval = time.Duration(minNs), time.Duration(maxNs)
	return c, nil
}
