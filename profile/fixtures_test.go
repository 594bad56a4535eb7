package profile

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtureDir finds shared/fixtures/signal beside the repository by walking up
// from the working directory.
func fixtureDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting working directory: %v", err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "fixtures", "signal")
		if info, err := os.Stat(candidate); err == nil && info.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no shared/fixtures/signal above the working directory")
		}
		dir = parent
	}
}

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureDir(t), rel))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return body
}
