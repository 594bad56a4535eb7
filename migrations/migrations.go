// Package migrations holds the database schema of signalscrape as numbered
// SQL files, one set per dialect, embedded in the binary. A file named
// NNNN_name.sql is migration version NNNN; the stores apply the files they
// have not applied yet in version order and record each in the table
// schema_migrations.
package migrations

import (
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Dialects of SQL that have a set of migrations.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// versionTables create the table that records applied versions.
var versionTables = map[string]string{
	SQLite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
)`,
	Postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    bigint      PRIMARY KEY,
    applied_at timestamptz NOT NULL
)`,
}

// File is one migration: its version, file name and statements.
type File struct {
	Version int64
	Name    string
	SQL     string
}

// Files returns the migrations of dialect in version order.
func Files(dialect string) ([]File, error) {
	if _, ok := versionTables[dialect]; !ok {
		return nil, fmt.Errorf("reading migrations: unknown dialect %q", dialect)
	}
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("reading migrations of %s: %w", dialect, err)
	}
	out := make([]File, 0, len(entries))
	for _, e := range entries {
		f, err := readFile(dialect, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("reading migrations of %s: version %d twice", dialect, out[i].Version)
		}
	}
	return out, nil
}

// VersionTable returns the statement that creates dialect's schema_migrations
// table unless it exists.
func VersionTable(dialect string) (string, error) {
	s, ok := versionTables[dialect]
	if !ok {
		return "", fmt.Errorf("reading migrations: unknown dialect %q", dialect)
	}
	return s, nil
}

// Pending returns the files whose versions are not in applied, in order. It
// fails when applied holds a version that no file has: the database was
// migrated by a newer program.
func Pending(files []File, applied map[int64]bool) ([]File, error) {
	known := make(map[int64]bool, len(files))
	var pending []File
	for _, f := range files {
		known[f.Version] = true
		if !applied[f.Version] {
			pending = append(pending, f)
		}
	}
	for v := range applied {
		if !known[v] {
			return nil, fmt.Errorf("checking schema: the database has migration %d, unknown to this program", v)
		}
	}
	return pending, nil
}

// readFile reads one migration and takes its version from its name.
func readFile(dialect, name string) (File, error) {
	prefix, _, ok := strings.Cut(name, "_")
	version, err := strconv.ParseInt(prefix, 10, 64)
	if !ok || err != nil || version <= 0 {
		return File{}, fmt.Errorf("reading migration %s/%s: name must start with a positive version and _",
			dialect, name)
	}
	b, err := files.ReadFile(path.Join(dialect, name))
	if err != nil {
		return File{}, fmt.Errorf("reading migration %s/%s: %w", dialect, name, err)
	}
	return File{Version: version, Name: name, SQL: string(b)}, nil
}
