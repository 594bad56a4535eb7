package mocksignal

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

func profilesDir(t testing.TB) string {
	return filepath.Join(fixtureDir(t), "profiles")
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newServer builds a Server on the fixture profiles unless cfg names a
// directory, and stops it at the end of the test.
func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.ProfilesDir == "" {
		cfg.ProfilesDir = profilesDir(t)
	}
	s, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return s
}

// response is what a test needs of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// get sends a GET of target, a raw request target, straight to the handler.
func get(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	return send(t, h, http.MethodGet, target)
}

func send(t *testing.T, h http.Handler, method, target string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: rec.Code, header: rec.Header(), body: string(body)}
}

func readProfile(t *testing.T, dir, id string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, id+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
