package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/migrations"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
	"github.com/signalscrape/signalscrape/persistence/storetest"
)

// TestUpgradeRecordsStoredLimits opens a database of the first schema that
// holds limits: they become the first recorded change.
func TestUpgradeRecordsStoredLimits(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2025, 2, 3, 4, 5, 6, 7_000_000, time.UTC)
	want := persistence.Limits{MinInterval: 1500 * time.Millisecond, MaxInterval: 4 * time.Second, MaxConcurrency: 3}
	writeFirstSchema(t, filepath.Join(dir, sqlite.DatabaseFile), at, want)
	storetest.CheckMigratedLimits(t, openIn(t, dir), at, want)
}

// writeFirstSchema creates a database at path as the first migration left
// it, with limits l stored at at.
func writeFirstSchema(t *testing.T, path string, at time.Time, l persistence.Limits) {
	t.Helper()
	ctx := context.Background()
	files, err := migrations.Files(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := migrations.VersionTable(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("opening the database: %v", err)
	}
	defer db.Close()
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{versions, nil},
		{files[0].SQL, nil},
		{`INSERT INTO schema_migrations (version, applied_at) VALUES (1, ?)`, []any{at.UnixMilli()}},
		{`INSERT INTO limits (id, min_interval_ns, max_interval_ns, max_concurrency, updated_at)
VALUES (1, ?, ?, ?, ?)`, []any{int64(l.MinInterval), int64(l.MaxInterval), l.MaxConcurrency, at.UnixMilli()}},
	} {
		if _, err := db.ExecContext(ctx, step.sql, step.args...); err != nil {
			t.Fatalf("writing the first schema: %v", err)
		}
	}
}
