package pgtest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
)

// SkipEnv is the environment variable that, set to 1, skips the tests that
// need PostgreSQL instead of failing them.
const SkipEnv = "SIGNALSCRAPE_SKIP_POSTGRES"

// shared is the server of the test binary, started by the first ForTest.
var shared struct {
	mu      sync.Mutex
	started bool
	server  *Server
	err     error
}

// ForTest returns the URL of a new, empty database on the test binary's
// shared server, starting the server on first use. The database is dropped
// when the test ends. Without PostgreSQL the test fails, or is skipped when
// SIGNALSCRAPE_SKIP_POSTGRES=1.
func ForTest(t testing.TB) string {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skip("PostgreSQL tests skipped: " + SkipEnv + "=1")
	}
	srv, err := sharedServer(t)
	if errors.Is(err, ErrNoPostgres) {
		t.Fatalf("%v; install PostgreSQL or set %s=1 to skip these tests", err, SkipEnv)
	}
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	url, err := srv.NewDatabase(context.Background())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := srv.dropDatabase(context.Background(), url); err != nil {
			t.Logf("%v", err)
		}
	})
	return url
}

// sharedServer starts the shared server once; a failed start is not retried.
func sharedServer(t testing.TB) (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		shared.server, shared.err = Start(context.Background(), t.Logf)
	}
	return shared.server, shared.err
}

// Main runs a package's tests and then stops the shared server. Call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	if shared.server != nil {
		shared.server.Stop()
	}
	shared.mu.Unlock()
	os.Exit(code)
}
