package migrations

import (
	"strings"
	"testing"
)

func TestFilesOfEachDialect(t *testing.T) {
	for _, dialect := range []string{SQLite, Postgres} {
		files, err := Files(dialect)
		if err != nil {
			t.Fatalf("Files(%q): %v", dialect, err)
		}
		if len(files) == 0 || files[0].Version != 1 || files[0].Name != "0001_init.sql" {
			t.Fatalf("Files(%q) = %+v, want 0001_init.sql first", dialect, files)
		}
		for _, table := range []string{"works", "events", "profiles", "limits", "blobs"} {
			if !strings.Contains(files[0].SQL, "CREATE TABLE "+table+" (") {
				t.Errorf("%s/0001_init.sql does not create table %s", dialect, table)
			}
		}
		if _, err := VersionTable(dialect); err != nil {
			t.Errorf("VersionTable(%q): %v", dialect, err)
		}
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := Files("oracle"); err == nil {
		t.Error("Files(oracle) gave no error")
	}
	if _, err := VersionTable("oracle"); err == nil {
		t.Error("VersionTable(oracle) gave no error")
	}
}

func TestPending(t *testing.T) {
	files := []File{{Version: 1, Name: "0001_a.sql"}, {Version: 2, Name: "0002_b.sql"}}
	got, err := Pending(files, map[int64]bool{1: true})
	if err != nil || len(got) != 1 || got[0].Version != 2 {
		t.Errorf("Pending with 1 applied = %+v, %v; want version 2", got, err)
	}
	got, err = Pending(files, map[int64]bool{1: true, 2: true})
	if err != nil || len(got) != 0 {
		t.Errorf("Pending with all applied = %+v, %v; want none", got, err)
	}
	if _, err := Pending(files, map[int64]bool{3: true}); err == nil {
		t.Error("Pending with an unknown applied version gave no error")
	}
}
