package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/migrations"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/persistence/storetest"
)

// TestUpgradeRecordsStoredLimits opens a database of the first schema that
// holds limits: they become the first recorded change.
func TestUpgradeRecordsStoredLimits(t *testing.T) {
	url := pgtest.ForTest(t)
	at := time.Date(2025, 2, 3, 4, 5, 6, 7_000_000, time.UTC)
	want := persistence.Limits{MinInterval: 1500 * time.Millisecond, MaxInterval: 4 * time.Second, MaxConcurrency: 3}
	writeFirstSchema(t, url, at, want)
	storetest.CheckMigratedLimits(t, open(t, url), at, want)
}

// writeFirstSchema creates the database at url as the first migration left
// it, with limits l stored at at.
func writeFirstSchema(t *testing.T, url string, at time.Time, l persistence.Limits) {
	t.Helper()
	ctx := context.Background()
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := migrations.VersionTable(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url)
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{versions, nil},
		{files[0].SQL, nil},
		{`INSERT INTO schema_migrations (version, applied_at) VALUES (1, $1)`, []any{at}},
		{`INSERT INTO limits (id, min_interval_ns, max_interval_ns, max_concurrency, updated_at)
VALUES (1, $1, $2, $3, $4)`, []any{int64(l.MinInterval), int64(l.MaxInterval), l.MaxConcurrency, at}},
	} {
		if _, err := conn.Exec(ctx, step.sql, step.args...); err != nil {
			t.Fatalf("writing the first schema: %v", err)
		}
	}
}
