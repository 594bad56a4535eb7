package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signalscrape/signalscrape/migrations"
)

// migrate applies the migrations that the database lacks, each in its own
// transaction, while holding the migration lock so that nodes starting
// together take turns.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		conn.Release()
		return fmt.Errorf("taking migration lock: %w", err)
	}
	err = migrateLocked(ctx, conn.Conn())
	const unlock = `SELECT pg_advisory_unlock($1)`
	if _, unlockErr := conn.Exec(context.WithoutCancel(ctx), unlock, migrationLockKey); unlockErr != nil {
		// The session may still hold the lock: end it rather than pool it.
		conn.Hijack().Close(context.WithoutCancel(ctx))
		if err == nil {
			err = fmt.Errorf("releasing migration lock: %w", unlockErr)
		}
		return err
	}
	conn.Release()
	return err
}

// migrateLocked applies the missing migrations.
func migrateLocked(ctx context.Context, conn *pgx.Conn) error {
	ddl, err := migrations.VersionTable(migrations.Postgres)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	pending, err := migrations.Pending(files, applied)
	if err != nil {
		return err
	}
	for _, f := range pending {
		if err := apply(ctx, conn, f); err != nil {
			return err
		}
	}
	return nil
}

// appliedVersions reads the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int64]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("reading schema versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reading schema versions: %w", err)
	}
	applied := map[int64]bool{}
	for _, v := range versions {
		applied[v] = true
	}
	return applied, nil
}

// apply runs one migration and records it.
func apply(ctx context.Context, conn *pgx.Conn, f migrations.File) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, f.SQL); err != nil {
			return fmt.Errorf("applying migration %s: %w", f.Name, err)
		}
		const record = `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`
		if _, err := tx.Exec(ctx, record, f.Version); err != nil {
			return fmt.Errorf("recording migration %s: %w", f.Name, err)
		}
		return nil
	})
}
