package sqlite_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
	"github.com/signalscrape/signalscrape/persistence/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persistence.Store { return openIn(t, t.TempDir()) })
}

func TestReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.PutBlob(ctx, "k", "text/plain", []byte("kept")); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if data, _, err := s.Blob(ctx, "k"); err != nil || string(data) != "kept" {
		t.Errorf("Blob after reopening = %q, %v; want kept", data, err)
	}
}

func TestSecondOpenOfDirFails(t *testing.T) {
	dir := t.TempDir()
	openIn(t, dir)
	_, err := sqlite.Open(context.Background(), dir)
	if !errors.Is(err, sqlite.ErrInUse) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open = %v, want ErrInUse naming %s", err, dir)
	}
}

// helperDirEnv names, in a child test process, the directory to open.
const helperDirEnv = "SIGNALSCRAPE_SQLITE_TEST_DIR"

func TestSecondProcessOnDirFails(t *testing.T) {
	dir := t.TempDir()
	openIn(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenInChildProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), sqlite.ErrInUse.Error()) {
		t.Errorf("child's output does not report the directory in use:\n%s", out)
	}
}

// TestOpenInChildProcess runs only as the child of TestSecondProcessOnDirFails
// and prints the error of its Open.
func TestOpenInChildProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("runs only as a child process")
	}
	s, err := sqlite.Open(context.Background(), dir)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a directory held by another process")
	}
	t.Log(err)
}

func TestOpenAfterCloseSucceeds(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	openIn(t, dir)
}

func TestDataDirIsPrivate(t *testing.T) {
	dir := t.TempDir() + "/nested/data"
	openIn(t, dir)
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", perm)
	}
	if _, err := os.Stat(dir + "/" + sqlite.DatabaseFile); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// openIn opens a store in dir, closed when the test ends.
func openIn(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, openIn(b, b.TempDir()))
}
