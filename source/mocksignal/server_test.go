package mocksignal

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/profile"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

func TestServesFixturesByteIdentically(t *testing.T) {
	s := newServer(t, Config{})
	dir := fixtures.ProfilesDir(t)
	for _, id := range []string{"DO1000", "DO1005", "DO1007"} {
		got := get(t, s.Handler(), "/sample/"+id+".csv")
		if got.status != http.StatusOK {
			t.Fatalf("%s: status %d", id, got.status)
		}
		if got.body != readProfile(t, dir, id) {
			t.Errorf("%s: body differs from the file", id)
		}
		if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s: content type %q", id, ct)
		}
	}
}

func TestNotFoundAndPathTricks(t *testing.T) {
	s := newServer(t, Config{})
	targets := []string{
		"/sample/DO9999999.csv",
		"/sample/DO1000",
		"/sample/DO1000.txt",
		"/sample/DO1000.csv.csv",
		"/sample/.csv",
		"/sample/",
		"/sample/../DO1000.csv",
		"/sample/..%2FDO1000.csv",
		"/sample/%2E%2E%2Fprofiles%2FDO1000.csv",
		"/sample/profiles/DO1000.csv",
		"/sample/DO1000.csv/../DO1000.csv",
		"/sample/.DO1000.csv",
		"/sample/DO1000%00.csv",
		"/sample/DO1000%2F.csv",
		"/sample/" + strings.Repeat("D", 65) + ".csv",
		"/sample//etc/passwd",
		"/nothing",
	}
	for _, target := range targets {
		if got := get(t, s.Handler(), target); got.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, got.status)
		}
	}
}

func TestIndexUsesOnlyValidNames(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("a", 64)
	files := map[string]string{
		long + ".csv":    "longest id",
		long + "b.csv":   "id too long",
		"x.y-z_1.csv":    "dots inside",
		".hidden.csv":    "leading dot",
		"with space.csv": "space",
		"notes.txt":      "not csv",
		"sub.csv":        "",
	}
	for name, body := range files {
		if body == "" {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, Config{ProfilesDir: dir})
	want := map[string]int{
		"/sample/" + long + ".csv":  http.StatusOK,
		"/sample/x.y-z_1.csv":       http.StatusOK,
		"/sample/" + long + "b.csv": http.StatusNotFound,
		"/sample/.hidden.csv":       http.StatusNotFound,
		"/sample/with%20space.csv":  http.StatusNotFound,
		"/sample/notes.txt":         http.StatusNotFound,
		"/sample/notes.csv":         http.StatusNotFound,
		"/sample/sub.csv":           http.StatusNotFound,
	}
	for target, status := range want {
		if got := get(t, s.Handler(), target); got.status != status {
			t.Errorf("%s: status %d, want %d", target, got.status, status)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := newServer(t, Config{})
	rec := send(t, s.Handler(), http.MethodPost, "/sample/DO1000.csv")
	if rec.status != http.StatusMethodNotAllowed || rec.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("status %d, Allow %q", rec.status, rec.header.Get("Allow"))
	}
}

func TestHomePage(t *testing.T) {
	s := newServer(t, Config{})
	got := get(t, s.Handler(), "/")
	if got.status != http.StatusOK || !strings.Contains(got.body, "708 profiles") {
		t.Fatalf("status %d, body %q", got.status, got.body)
	}
	if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
}

func TestThrottleEvery(t *testing.T) {
	s := newServer(t, Config{ThrottleEvery: 3, RetryAfter: 1500 * time.Millisecond})
	want := []int{200, 200, 429, 404, 200, 429, 200}
	targets := []string{"DO1000", "DO1005", "DO1007", "DO9999999", "DO1000", "DO9999999", "DO1005"}
	for i, id := range targets {
		got := get(t, s.Handler(), "/sample/"+id+".csv")
		if got.status != want[i] {
			t.Fatalf("request %d: status %d, want %d", i+1, got.status, want[i])
		}
		if got.status == http.StatusTooManyRequests && got.header.Get("Retry-After") != "2" {
			t.Fatalf("request %d: Retry-After %q, want 2", i+1, got.header.Get("Retry-After"))
		}
	}
	if got := get(t, s.Handler(), "/"); got.status != http.StatusOK {
		t.Fatalf("home page status %d: pages must not be throttled", got.status)
	}
}

func TestThrottleStorm(t *testing.T) {
	s := newServer(t, Config{ThrottleEvery: 4, ThrottleStorm: 3})
	want := []int{200, 200, 200, 429, 429, 429, 200, 429}
	for i, w := range want {
		if got := get(t, s.Handler(), "/sample/DO1000.csv"); got.status != w {
			t.Fatalf("request %d: status %d, want %d", i+1, got.status, w)
		}
	}
}

func TestStaleAnswersCarryAnotherDonor(t *testing.T) {
	s := newServer(t, Config{StaleRate: 1})
	dir := fixtures.ProfilesDir(t)
	for _, id := range []string{"DO1000", "DO1005", "DO1007"} {
		got := get(t, s.Handler(), "/sample/"+id+".csv")
		if got.status != http.StatusOK {
			t.Fatalf("%s: status %d", id, got.status)
		}
		_, err := profile.Parse([]byte(got.body), id)
		if !errors.Is(err, profile.ErrWrongDonor) {
			t.Fatalf("%s: Parse err = %v, want ErrWrongDonor", id, err)
		}
		var wrong *profile.WrongDonorError
		if !errors.As(err, &wrong) || got.body != readProfile(t, dir, wrong.Got) {
			t.Fatalf("%s: body is not the file of the donor its header names", id)
		}
	}
	if got := get(t, s.Handler(), "/sample/DO9999999.csv"); got.status != http.StatusNotFound {
		t.Fatalf("unknown donor: status %d, want 404", got.status)
	}
}

func TestGarbageAnswers(t *testing.T) {
	s := newServer(t, Config{GarbageRate: 1, Seed: 7})
	kinds := map[string]int{}
	for range 20 {
		got := get(t, s.Handler(), "/sample/DO1000.csv")
		if got.status != http.StatusOK {
			t.Fatalf("status %d", got.status)
		}
		_, err := profile.Parse([]byte(got.body), "DO1000")
		if err == nil || errors.Is(err, profile.ErrWrongDonor) {
			t.Fatalf("garbage parsed with err = %v", err)
		}
		kinds[strings.SplitN(got.header.Get("Content-Type"), ";", 2)[0]]++
	}
	if kinds["text/html"] == 0 || kinds["text/csv"] == 0 {
		t.Fatalf("garbage kinds %v, want both HTML and truncated profiles", kinds)
	}
}

func TestErrorAnswers(t *testing.T) {
	s := newServer(t, Config{ErrorRate: 1, Seed: 3})
	statuses := map[int]int{}
	for range 20 {
		statuses[get(t, s.Handler(), "/sample/DO1000.csv").status]++
	}
	if len(statuses) != 2 || statuses[500] == 0 || statuses[502] == 0 {
		t.Fatalf("statuses %v, want only 500 and 502", statuses)
	}
}

func TestRatesAreSeededAndRoughlyKept(t *testing.T) {
	cfg := Config{ErrorRate: 0.2, StaleRate: 0.2, GarbageRate: 0.2, Seed: 11}
	first := faultSequence(t, newServer(t, cfg), 300)
	again := faultSequence(t, newServer(t, cfg), 300)
	if first != again {
		t.Fatal("the same seed gave different faults")
	}
	cfg.Seed = 12
	if other := faultSequence(t, newServer(t, cfg), 300); other == first {
		t.Fatal("another seed gave the same faults")
	}
	for _, fault := range []string{"E", "S", "G"} {
		if n := strings.Count(first, fault); n < 30 || n > 90 {
			t.Errorf("fault %s on %d of 300 requests, want about 60", fault, n)
		}
	}
}

// faultSequence classifies n answers for DO1000: E error, S stale, G garbage,
// . a good profile.
func faultSequence(t *testing.T, s *Server, n int) string {
	var b strings.Builder
	for range n {
		got := get(t, s.Handler(), "/sample/DO1000.csv")
		_, err := profile.Parse([]byte(got.body), "DO1000")
		switch {
		case got.status >= 500:
			b.WriteByte('E')
		case errors.Is(err, profile.ErrWrongDonor):
			b.WriteByte('S')
		case err != nil:
			b.WriteByte('G')
		default:
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := fixtures.ProfilesDir(t)
	bad := map[string]Config{
		"no dir":         {},
		"missing dir":    {ProfilesDir: filepath.Join(t.TempDir(), "none")},
		"negative rate":  {ProfilesDir: dir, ErrorRate: -0.1},
		"rate above 1":   {ProfilesDir: dir, GarbageRate: 1.5},
		"rates over 1":   {ProfilesDir: dir, ErrorRate: 0.5, StaleRate: 0.6},
		"throttle":       {ProfilesDir: dir, ThrottleEvery: -1},
		"throttle storm": {ProfilesDir: dir, ThrottleEvery: 3, ThrottleStorm: 3},
		"retry after":    {ProfilesDir: dir, RetryAfter: -time.Second},
		"latency":        {ProfilesDir: dir, Latency: Latency{Min: 2, Max: 1}},
		"stale with one": {ProfilesDir: oneProfileDir(t), StaleRate: 0.5},
		"log dir":        {ProfilesDir: dir, LogPath: t.TempDir()},
	}
	for name, cfg := range bad {
		if _, err := New(cfg, discardLogger()); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func oneProfileDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "DO1.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestParseLatency(t *testing.T) {
	good := map[string]Latency{
		"0":         {},
		"50ms":      {Min: 50 * time.Millisecond, Max: 50 * time.Millisecond},
		"20ms-80ms": {Min: 20 * time.Millisecond, Max: 80 * time.Millisecond},
		"1s - 2s":   {Min: time.Second, Max: 2 * time.Second},
	}
	for in, want := range good {
		got, err := ParseLatency(in)
		if err != nil || got != want {
			t.Errorf("ParseLatency(%q) = %v, %v; want %v", in, got, err, want)
		}
		if again, err := ParseLatency(got.String()); err != nil || again != got {
			t.Errorf("String() of %v does not parse back: %v", got, err)
		}
	}
	for _, in := range []string{"", "fast", "80ms-20ms", "-5ms", "5ms-", "1s-2s-3s"} {
		if l, err := ParseLatency(in); err == nil {
			t.Errorf("ParseLatency(%q) = %v, want an error", in, l)
		}
	}
}

func TestLatencyStopsWhenClientLeaves(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	s := newServer(t, Config{Latency: Latency{Min: time.Hour, Max: time.Hour}, LogPath: logPath})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/sample/DO1000.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Handler().ServeHTTP(discardWriter{header: http.Header{}}, req)
	entries, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Status != 499 {
		t.Fatalf("entries %+v, want one with status 499", entries)
	}
}

type discardWriter struct{ header http.Header }

func (w discardWriter) Header() http.Header         { return w.header }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

func TestStartServesOnLoopbackAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := New(Config{Addr: "127.0.0.1:0", ProfilesDir: fixtures.ProfilesDir(t)}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + s.Addr() + "/sample/DO1000.csv")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != readProfile(t, fixtures.ProfilesDir(t), "DO1000") {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + s.Addr() + "/"); err == nil {
		t.Error("still serving after Stop")
	}
	waitForGoroutines(t, before)
}

// waitForGoroutines fails the test if goroutines started by it are still
// running after a grace period for their exit.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
