package mocksignal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// TestErrorBurst checks that the burst answers 500 to requests 3 to 5, of
// which the throttle takes one.
func TestErrorBurst(t *testing.T) {
	s := newServer(t, Config{ErrorBurst: 3, ErrorBurstAt: 2, ThrottleEvery: 4})
	want := []int{200, 200, 500, 429, 500, 200, 200, 429}
	for i, w := range want {
		if got := get(t, s.Handler(), "/sample/DO1000.csv"); got.status != w {
			t.Fatalf("request %d: status %d, want %d", i+1, got.status, w)
		}
	}
}

// TestSlowAndReset sends requests over a real connection: a slow answer
// outlasts the client's timeout, a reset connection gives the client an
// error, and the log names both.
func TestSlowAndReset(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	s := newServer(t, Config{SlowRate: 1, SlowDelay: time.Hour, LogPath: logPath})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/sample/DO1000.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: err %v, want the client's deadline", err)
	}
	srv.Close()
	entries, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Fault != faultSlow || entries[0].Status != 499 {
		t.Fatalf("log %+v, want one slow request that the client left", entries)
	}

	logPath = filepath.Join(t.TempDir(), "resets.jsonl")
	r := newServer(t, Config{ResetRate: 1, LogPath: logPath})
	reset := httptest.NewServer(r.Handler())
	defer reset.Close()
	if resp, err := reset.Client().Get(reset.URL + "/sample/DO1000.csv"); err == nil {
		resp.Body.Close()
		t.Fatalf("reset connection answered %d", resp.StatusCode)
	}
	entries = waitLog(t, logPath, 1)
	if len(entries) != 1 || entries[0].Fault != faultReset || entries[0].Status != 0 {
		t.Fatalf("log %+v, want one reset with status 0", entries)
	}
}

func TestNewRejectsBadFaults(t *testing.T) {
	bad := map[string]Config{
		"burst":      {ErrorBurst: -1},
		"burst at":   {ErrorBurstAt: -1},
		"slow delay": {SlowDelay: -time.Second},
		"slow rate":  {SlowRate: 2},
		"all rates":  {ErrorRate: 0.5, SlowRate: 0.3, ResetRate: 0.3},
	}
	for name, cfg := range bad {
		cfg.ProfilesDir = "profiles"
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
}

// waitLog reads the request log until it holds n entries or a few seconds
// pass: the server logs a request after the client has seen its end.
func waitLog(t *testing.T, path string, n int) []LogEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, err := ReadLog(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) >= n || time.Now().After(deadline) {
			return entries
		}
		time.Sleep(20 * time.Millisecond)
	}
}
