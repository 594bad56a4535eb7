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

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newServer builds a Server on the fixture profiles unless cfg names a
// directory, and stops it at the end of the test.
func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.ProfilesDir == "" {
		cfg.ProfilesDir = fixtures.ProfilesDir(t)
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
