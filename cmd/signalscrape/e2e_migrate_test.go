package main

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalscrape/signalscrape/migrations"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
)

// TestClusterMigrate runs `signalscrape migrate` twice on a fresh
// PostgreSQL database: the first run applies every migration, the second
// finds nothing to do and changes nothing. (Its name matches the Makefile's
// process tests.)
func TestClusterMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	url := pgtest.ForTest(t)
	conn := connectPG(t, url)
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if tableExists(t, conn, "schema_migrations") {
		t.Fatal("the fresh database already has schema_migrations")
	}

	migrateOnce(t, url)
	first := appliedMigrations(t, conn)
	var want []int64
	for _, f := range files {
		want = append(want, f.Version)
	}
	if got := slices.Sorted(maps.Keys(first)); !slices.Equal(got, want) {
		t.Fatalf("schema_migrations holds versions %v after migrate, want %v", got, want)
	}
	checkTablesCreated(t, conn, files)

	migrateOnce(t, url)
	if second := appliedMigrations(t, conn); !maps.Equal(first, second) {
		t.Errorf("a second migrate changed schema_migrations: %v, then %v", first, second)
	}
}

// migrateOnce runs `signalscrape migrate` on the database at url and checks
// that it succeeds.
func migrateOnce(t *testing.T, url string) {
	t.Helper()
	code, out := runOnce(t, nil, "migrate", "--database-url", url, "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("signalscrape migrate exited %d, want 0; output:\n%s", code, out)
	}
}

// connectPG opens a connection to the database at url, closed when the test
// ends (before pgtest drops the database).
func connectPG(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tableExists reports whether the database has a table named name.
func tableExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var exists bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
		t.Fatalf("looking up table %s: %v", name, err)
	}
	return exists
}

// appliedMigrations reads schema_migrations: when each version was applied.
func appliedMigrations(t *testing.T, conn *pgx.Conn) map[int64]time.Time {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	applied := map[int64]time.Time{}
	var version int64
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&version, &at}, func() error {
		applied[version] = at
		return nil
	})
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	return applied
}

// createTable finds the tables a migration creates.
var createTable = regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)

// checkTablesCreated checks that every table the migrations create exists.
func checkTablesCreated(t *testing.T, conn *pgx.Conn, files []migrations.File) {
	t.Helper()
	seen := 0
	for _, f := range files {
		for _, m := range createTable.FindAllStringSubmatch(f.SQL, -1) {
			seen++
			if !tableExists(t, conn, m[1]) {
				t.Errorf("table %s of migration %s is missing after migrate", m[1], f.Name)
			}
		}
	}
	if seen == 0 {
		t.Error("found no CREATE TABLE in the migrations to check")
	}
}
