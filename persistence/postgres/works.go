package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/internal/record"
)

// Statements of the event log. pgx prepares and caches each on first use.
const (
	insertWorkSQL = `INSERT INTO works (id, status, total, filename, created_at, updated_at, last_seq)
VALUES ($1, $2, $3, $4, $5, $5, 1)`
	advanceSQL = `UPDATE works SET last_seq = $1, updated_at = $2, status = coalesce(nullif($3, ''), status)
WHERE id = $4 AND last_seq = $5`
	insertEventsSQL = `INSERT INTO events (work_id, seq, at, kind, data)
SELECT $1, $2 + e.n, e.at, e.kind, e.data
FROM unnest($3::timestamptz[], $4::text[], $5::bytea[]) WITH ORDINALITY AS e (at, kind, data, n)`
	workExistsSQL = `SELECT EXISTS (SELECT 1 FROM works WHERE id = $1)`
)

// summaryColumns are the columns that scanSummary reads.
const summaryColumns = `id, status, total, filename, created_at, updated_at`

// uniqueViolation is PostgreSQL's error code for a duplicate key.
const uniqueViolation = "23505"

// CreateWork stores a new work and its first event.
func (s *Store) CreateWork(ctx context.Context, created *messages.WorkCreated) error {
	now := record.Millis(time.Now())
	ev, err := record.Encode(record.Created(created), now)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, insertWorkSQL, created.GetIdwork(), persistence.StatusPending,
			record.Total(created), created.GetFilename(), now)
		if err != nil {
			return err
		}
		return insertEvents(ctx, tx, created.GetIdwork(), 0, []record.Event{ev})
	})
	if err != nil {
		return fmt.Errorf("creating work: %w", conflict(err))
	}
	return nil
}

// Append adds events after sequence number after, in one transaction.
func (s *Store) Append(ctx context.Context, workID string, after int64, status string,
	events ...*messages.Event,
) error {
	now := record.Millis(time.Now())
	rows, err := record.EncodeAll(events, now)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, advanceSQL, after+int64(len(rows)), now, status, workID, after)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return whyNotAdvanced(ctx, tx, workID)
		}
		return insertEvents(ctx, tx, workID, after, rows)
	})
	if err != nil {
		return fmt.Errorf("appending to work %s: %w", workID, conflict(err))
	}
	return nil
}

// whyNotAdvanced tells a missing work from a sequence conflict.
func whyNotAdvanced(ctx context.Context, tx pgx.Tx, workID string) error {
	var exists bool
	if err := tx.QueryRow(ctx, workExistsSQL, workID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return persistence.ErrNotFound
	}
	return persistence.ErrConflict
}

// insertEvents writes rows numbered after+1, after+2, ... in one statement.
func insertEvents(ctx context.Context, tx pgx.Tx, workID string, after int64, rows []record.Event) error {
	if len(rows) == 0 {
		return nil
	}
	ats := make([]time.Time, len(rows))
	kinds := make([]string, len(rows))
	data := make([][]byte, len(rows))
	for i, r := range rows {
		ats[i], kinds[i], data[i] = time.UnixMilli(r.AtUnixMs).UTC(), r.Kind, r.Data
	}
	_, err := tx.Exec(ctx, insertEventsSQL, workID, after, ats, kinds, data)
	return err
}

// conflict turns a unique-key violation into persistence.ErrConflict.
func conflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return persistence.ErrConflict
	}
	return err
}

// Events returns a work's log in sequence order.
func (s *Store) Events(ctx context.Context, workID string) ([]*messages.Event, error) {
	const q = `SELECT seq, at, data FROM events WHERE work_id = $1 ORDER BY seq`
	rows, err := s.pool.Query(ctx, q, workID)
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*messages.Event, error) {
		var seq int64
		var at time.Time
		var data []byte
		if err := row.Scan(&seq, &at, &data); err != nil {
			return nil, err
		}
		return record.Decode(data, seq, at.UnixMilli())
	})
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	if events == nil {
		events = []*messages.Event{}
	}
	return events, nil
}

// Work returns one work's summary, or persistence.ErrNotFound.
func (s *Store) Work(ctx context.Context, workID string) (persistence.WorkSummary, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+summaryColumns+` FROM works WHERE id = $1`, workID)
	w, err := scanSummary(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, fmt.Errorf("reading work %s: %w", workID, persistence.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("reading work: %w", err)
	}
	return w, nil
}

// ListWorks returns works newest first; a limit of zero or less means all.
func (s *Store) ListWorks(ctx context.Context, limit, offset int) ([]persistence.WorkSummary, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	const q = `SELECT ` + summaryColumns + ` FROM works ORDER BY created_at DESC, ord DESC LIMIT $1 OFFSET $2`
	rows, err := s.pool.Query(ctx, q, lim, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("listing works: %w", err)
	}
	works, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (persistence.WorkSummary, error) {
		return scanSummary(row)
	})
	if err != nil {
		return nil, fmt.Errorf("listing works: %w", err)
	}
	if works == nil {
		works = []persistence.WorkSummary{}
	}
	return works, nil
}

// UnfinishedWorks returns the ids of works not in a terminal status, oldest
// first.
func (s *Store) UnfinishedWorks(ctx context.Context) ([]string, error) {
	const q = `SELECT id FROM works
WHERE status NOT IN ('completed', 'completed_with_errors', 'failed', 'cancelled') ORDER BY ord`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished works: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing unfinished works: %w", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// CountWorks returns the number of works in each status that has any.
func (s *Store) CountWorks(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM works GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting works: %w", err)
	}
	counts := map[string]int64{}
	var status string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting works: %w", err)
	}
	return counts, nil
}

// scanSummary reads the summaryColumns of one row.
func scanSummary(row pgx.Row) (persistence.WorkSummary, error) {
	var w persistence.WorkSummary
	if err := row.Scan(&w.ID, &w.Status, &w.Total, &w.Filename, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return persistence.WorkSummary{}, err
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}
