package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	driver "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/internal/record"
)

// Statements on the hot path of the event log, prepared once on the writer.
const (
	insertWorkSQL = `INSERT INTO works (id, status, total, filename, created_at, updated_at, last_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)`
	advanceSQL = `UPDATE works SET last_seq = ?1, updated_at = ?2, status = coalesce(nullif(?3, ''), status)
WHERE id = ?4 AND last_seq = ?5`
	insertEventSQL = `INSERT INTO events (work_id, seq, at, kind, data) VALUES (?, ?, ?, ?, ?)`
	workExistsSQL  = `SELECT count(*) FROM works WHERE id = ?`
)

// summaryColumns are the columns that scanSummary reads.
const summaryColumns = `id, status, total, filename, created_at, updated_at`

// statements are the prepared statements of the writer.
type statements struct {
	insertWork  *sql.Stmt
	advance     *sql.Stmt
	insertEvent *sql.Stmt
	workExists  *sql.Stmt
}

// prepare prepares every statement on db.
func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&st.insertWork, insertWorkSQL},
		{&st.advance, advanceSQL},
		{&st.insertEvent, insertEventSQL},
		{&st.workExists, workExistsSQL},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("preparing statement: %w", err)
		}
		*p.stmt = stmt
	}
	return nil
}

// close closes the statements that were prepared.
func (st *statements) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{st.insertWork, st.advance, st.insertEvent, st.workExists} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// CreateWork stores a new work and its first event.
func (s *Store) CreateWork(ctx context.Context, created *messages.WorkCreated) error {
	now := time.Now()
	ev, err := record.Encode(record.Created(created), now)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating work: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.StmtContext(ctx, s.stmts.insertWork).ExecContext(ctx, created.GetIdwork(),
		persistence.StatusPending, record.Total(created), created.GetFilename(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("creating work: %w", conflict(err))
	}
	err = insertEvents(ctx, tx, s.stmts.insertEvent, created.GetIdwork(), 0, []record.Event{ev})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating work: %w", err)
	}
	return nil
}

// Append adds events after sequence number after, in one transaction.
func (s *Store) Append(ctx context.Context, workID string, after int64, status string,
	events ...*messages.Event,
) error {
	now := time.Now()
	rows, err := record.EncodeAll(events, now)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("appending to work: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, s.stmts.advance).ExecContext(ctx,
		after+int64(len(rows)), now.UnixMilli(), status, workID, after)
	if err != nil {
		return fmt.Errorf("appending to work: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return s.whyNotAdvanced(ctx, tx, workID, err)
	}
	if err := insertEvents(ctx, tx, s.stmts.insertEvent, workID, after, rows); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("appending to work: %w", err)
	}
	return nil
}

// whyNotAdvanced tells a missing work from a sequence conflict.
func (s *Store) whyNotAdvanced(ctx context.Context, tx *sql.Tx, workID string, err error) error {
	if err != nil {
		return fmt.Errorf("appending to work: %w", err)
	}
	var n int
	if err := tx.StmtContext(ctx, s.stmts.workExists).QueryRowContext(ctx, workID).Scan(&n); err != nil {
		return fmt.Errorf("appending to work: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("appending to work %s: %w", workID, persistence.ErrNotFound)
	}
	return fmt.Errorf("appending to work %s: %w", workID, persistence.ErrConflict)
}

// insertEvents writes rows numbered after+1, after+2, ... .
func insertEvents(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, workID string, after int64,
	rows []record.Event,
) error {
	ins := tx.StmtContext(ctx, stmt)
	for i, r := range rows {
		if _, err := ins.ExecContext(ctx, workID, after+1+int64(i), r.AtUnixMs, r.Kind, r.Data); err != nil {
			return fmt.Errorf("inserting event: %w", conflict(err))
		}
	}
	return nil
}

// conflict turns a unique-key violation into persistence.ErrConflict.
func conflict(err error) error {
	var e *driver.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlitelib.SQLITE_CONSTRAINT_PRIMARYKEY, sqlitelib.SQLITE_CONSTRAINT_UNIQUE:
			return persistence.ErrConflict
		}
	}
	return err
}

// Events returns a work's log in sequence order.
func (s *Store) Events(ctx context.Context, workID string) ([]*messages.Event, error) {
	const q = `SELECT seq, at, data FROM events WHERE work_id = ? ORDER BY seq`
	rows, err := s.read.QueryContext(ctx, q, workID)
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	events := []*messages.Event{}
	for rows.Next() {
		var seq, at int64
		var data []byte
		if err := rows.Scan(&seq, &at, &data); err != nil {
			return nil, fmt.Errorf("reading events: %w", err)
		}
		ev, err := record.Decode(data, seq, at)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	return events, nil
}

// Work returns one work's summary, or persistence.ErrNotFound.
func (s *Store) Work(ctx context.Context, workID string) (persistence.WorkSummary, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+summaryColumns+` FROM works WHERE id = ?`, workID)
	w, err := scanSummary(row)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("reading work %s: %w", workID, persistence.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("reading work: %w", err)
	}
	return w, nil
}

// ListWorks returns works newest first; a limit of zero or less means all.
func (s *Store) ListWorks(ctx context.Context, limit, offset int) ([]persistence.WorkSummary, error) {
	if limit <= 0 {
		limit = -1
	}
	const q = `SELECT ` + summaryColumns + ` FROM works ORDER BY created_at DESC, ord DESC LIMIT ? OFFSET ?`
	rows, err := s.read.QueryContext(ctx, q, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("listing works: %w", err)
	}
	defer rows.Close()
	works := []persistence.WorkSummary{}
	for rows.Next() {
		w, err := scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("listing works: %w", err)
		}
		works = append(works, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing works: %w", err)
	}
	return works, nil
}

// UnfinishedWorks returns the ids of works not in a terminal status, oldest
// first.
func (s *Store) UnfinishedWorks(ctx context.Context) ([]string, error) {
	const q = `SELECT id FROM works
WHERE status NOT IN ('completed', 'completed_with_errors', 'failed', 'cancelled') ORDER BY ord`
	rows, err := s.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished works: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing unfinished works: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing unfinished works: %w", err)
	}
	return ids, nil
}

// CountWorks returns the number of works in each status that has any.
func (s *Store) CountWorks(ctx context.Context) (map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM works GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting works: %w", err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("counting works: %w", err)
		}
		counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting works: %w", err)
	}
	return counts, nil
}

// scanSummary reads the summaryColumns of one row.
func scanSummary(row interface{ Scan(...any) error }) (persistence.WorkSummary, error) {
	var w persistence.WorkSummary
	var created, updated int64
	if err := row.Scan(&w.ID, &w.Status, &w.Total, &w.Filename, &created, &updated); err != nil {
		return persistence.WorkSummary{}, err
	}
	w.CreatedAt = time.UnixMilli(created).UTC()
	w.UpdatedAt = time.UnixMilli(updated).UTC()
	return w, nil
}
