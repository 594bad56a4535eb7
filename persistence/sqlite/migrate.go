package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/signalscrape/signalscrape/migrations"
)

// migrate applies the migrations that db has not seen yet, each in its own
// transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	ddl, err := migrations.VersionTable(migrations.SQLite)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	files, err := migrations.Files(migrations.SQLite)
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	pending, err := migrations.Pending(files, applied)
	if err != nil {
		return err
	}
	for _, f := range pending {
		if err := apply(ctx, db, f); err != nil {
			return err
		}
	}
	return nil
}

// appliedVersions reads the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, db *sql.DB) (map[int64]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("reading schema versions: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading schema versions: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schema versions: %w", err)
	}
	return applied, nil
}

// apply runs one migration and records it.
func apply(ctx context.Context, db *sql.DB, f migrations.File) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("applying migration %s: %w", f.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, f.SQL); err != nil {
		return fmt.Errorf("applying migration %s: %w", f.Name, err)
	}
	const record = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
	if _, err := tx.ExecContext(ctx, record, f.Version, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("recording migration %s: %w", f.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migration %s: %w", f.Name, err)
	}
	return nil
}
