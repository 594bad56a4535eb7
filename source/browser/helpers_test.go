package browser

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/source"
	"github.com/signalscrape/signalscrape/source/mocksignal"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// skipEnv names the variable that lets the browser tests skip where no
// Chromium is installed.
const skipEnv = "SIGNALSCRAPE_SKIP_BROWSER"

// requireChromium fails the test when Chromium is missing, unless skipEnv is
// 1, which skips it.
func requireChromium(t *testing.T) {
	t.Helper()
	if os.Getenv(skipEnv) == "1" {
		t.Skipf("%s=1: browser tests skipped", skipEnv)
	}
	if _, err := findChromium(""); err != nil {
		t.Fatalf("the browser tests need Chromium (%v); set %s=1 to skip them", err, skipEnv)
	}
}

// testLogger writes to the test's log at debug level when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// site is a stand-in of the SIGNAL site on a loopback port.
type site struct {
	url string
	log string
}

// startSite serves mock-signal's pages for the fixtures, with a request log,
// until the end of the test.
func startSite(t *testing.T, cfg mocksignal.Config) site {
	t.Helper()
	return startSiteWith(t, cfg, func(h http.Handler) http.Handler { return h })
}

// startSiteWith is startSite with the site's handler wrapped by wrap.
func startSiteWith(t *testing.T, cfg mocksignal.Config, wrap func(http.Handler) http.Handler) site {
	t.Helper()
	cfg.ProfilesDir = fixtures.ProfilesDir(t)
	cfg.LogPath = filepath.Join(t.TempDir(), "requests.jsonl")
	srv, err := mocksignal.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(wrap(srv.Handler()))
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Stop(context.Background()); err != nil {
			t.Errorf("stopping the site: %v", err)
		}
	})
	return site{url: ts.URL, log: cfg.LogPath}
}

// newSource makes a browser Source for the site and closes it at the end of
// the test, checking that its goroutines are gone.
func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	before := runtime.NumGoroutine()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
		checkGoroutines(t, before)
	})
	return s
}

// checkGoroutines waits a little for the goroutines to go back to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isPNG reports whether ev is a PNG image.
func isPNG(ev *source.Evidence) bool {
	return ev != nil && ev.ContentType == "image/png" && bytes.HasPrefix(ev.Data, []byte("\x89PNG\r\n\x1a\n"))
}

// evidenceOf returns the evidence attached to err, or nil.
func evidenceOf(err error) *source.Evidence {
	var fe *source.FetchError
	if errors.As(err, &fe) {
		return fe.Evidence
	}
	return nil
}

// pageOf returns the page's HTML attached to err, or nil.
func pageOf(err error) *source.Evidence {
	var fe *source.FetchError
	if errors.As(err, &fe) {
		return fe.Page
	}
	return nil
}
