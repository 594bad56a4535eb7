package mocksignal

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHomePageHasSearch(t *testing.T) {
	s := newServer(t, Config{PreviewDelay: 450 * time.Millisecond})
	got := get(t, s.Handler(), "/")
	if got.status != http.StatusOK {
		t.Fatalf("status %d", got.status)
	}
	for _, want := range []string{`class="Search__Container-sc-`, `<input `, `id="preview"`, `const delay =  450 ;`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	if strings.Contains(got.body, `href="/explore/cancerSample/`) {
		t.Error("the preview of a fresh site already links to a donor")
	}
}

// search asks the preview's search for q.
func search(t *testing.T, h http.Handler, q string) []string {
	t.Helper()
	got := get(t, h, "/api/search?q="+q)
	if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("search %q: status %d, content type %q", q, got.status, got.header.Get("Content-Type"))
	}
	var answer struct{ IDs []string }
	if err := json.Unmarshal([]byte(got.body), &answer); err != nil {
		t.Fatalf("search %q: %v in %q", q, err, got.body)
	}
	return answer.IDs
}

func TestSearch(t *testing.T) {
	s := newServer(t, Config{})
	h := s.Handler()
	ids := search(t, h, "DO100")
	if len(ids) == 0 || len(ids) > maxPreview || ids[0] != "DO1000" {
		t.Fatalf("search DO100 = %v", ids)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "DO100") {
			t.Errorf("search DO100 found %s", id)
		}
	}
	if ids := search(t, h, "do1005"); len(ids) != 1 || ids[0] != "DO1005" {
		t.Errorf("search do1005 = %v", ids)
	}
	long := strings.Repeat("D", maxIDLen+1)
	for _, q := range []string{"DO9999999", "", "%20", long} {
		if ids := search(t, h, q); len(ids) != 0 {
			t.Errorf("search %q = %v, want none", q, ids)
		}
	}
}

// TestHomeShowsPreviousSearch checks the trap of the real site: until its
// own search is answered, the preview shows the last search's links.
func TestHomeShowsPreviousSearch(t *testing.T) {
	s := newServer(t, Config{})
	h := s.Handler()
	search(t, h, "DO1005")
	search(t, h, "DO9999999") // finds nothing, and so leaves the preview
	got := get(t, h, "/")
	if !strings.Contains(got.body, `<a href="/explore/cancerSample/DO1005">DO1005</a>`) {
		t.Errorf("home page does not show the previous search: %s", got.body)
	}
}

func TestCancerSamplePage(t *testing.T) {
	s := newServer(t, Config{})
	got := get(t, s.Handler(), "/explore/cancerSample/DO1000")
	if got.status != http.StatusOK || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, content type %q", got.status, got.header.Get("Content-Type"))
	}
	for _, want := range []string{"Cancer sample DO1000", `<button class="Button__Base-sc-2m3n4o" label="Download as CSV">`, `const id = "DO1000";`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestCancerSamplePageRejectsIDs(t *testing.T) {
	s := newServer(t, Config{})
	got := get(t, s.Handler(), "/explore/cancerSample/DO9999999")
	if got.status != http.StatusNotFound || !strings.Contains(got.body, "No cancer sample DO9999999") {
		t.Errorf("unknown donor: status %d, body %q", got.status, got.body)
	}
	for _, id := range []string{".hidden", "..%2Fsample%2FDO1000.csv", "%3Cscript%3E", strings.Repeat("a", maxIDLen+1)} {
		got := get(t, s.Handler(), "/explore/cancerSample/"+id)
		if got.status != http.StatusNotFound || strings.Contains(got.body, "<button") {
			t.Errorf("id %q: status %d, body %q", id, got.status, got.body)
		}
	}
}

func TestBrokenPages(t *testing.T) {
	buttons := func(cfg Config) int {
		s := newServer(t, cfg)
		n := 0
		for range 40 {
			if strings.Contains(get(t, s.Handler(), "/explore/cancerSample/DO1000").body, "<button") {
				n++
			}
		}
		return n
	}
	if n := buttons(Config{BrokenPages: 1}); n != 0 {
		t.Errorf("%d of 40 pages have the button with BrokenPages 1", n)
	}
	if n := buttons(Config{BrokenPages: 0.5, Seed: 3}); n == 0 || n == 40 {
		t.Errorf("%d of 40 pages have the button with BrokenPages 0.5", n)
	}
}

// TestPagesAreLoggedNotCounted checks that the pages show in the request
// log but not among the profile requests that politeness counts.
func TestPagesAreLoggedNotCounted(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	s := newServer(t, Config{LogPath: logPath, PageDelay: time.Millisecond})
	h := s.Handler()
	for _, target := range []string{"/", "/api/search?q=DO1000", "/explore/cancerSample/DO1000", "/sample/DO1000.csv"} {
		if got := get(t, h, target); got.status != http.StatusOK {
			t.Fatalf("%s: status %d", target, got.status)
		}
	}
	entries, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(entries))
	for i, e := range entries {
		paths[i] = e.Path
	}
	if strings.Join(paths, " ") != "/ /api/search /explore/cancerSample/DO1000 /sample/DO1000.csv" {
		t.Errorf("logged %v", paths)
	}
	r, err := CheckPoliteness(entries, time.Hour, 1)
	if err != nil || r.Requests != 1 {
		t.Errorf("politeness counts %d requests (err %v), want the profile only", r.Requests, err)
	}
}

func TestSiteConfig(t *testing.T) {
	base := Config{ProfilesDir: "x"}
	bad := []func(*Config){
		func(c *Config) { c.PageDelay = -time.Second },
		func(c *Config) { c.PreviewDelay = -time.Second },
		func(c *Config) { c.BrokenPages = 1.5 },
		func(c *Config) { c.BrokenPages = -0.1 },
	}
	for i, change := range bad {
		c := base
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: accepted %+v", i, c)
		}
	}
	if d := base.withDefaults().PreviewDelay; d != DefaultPreviewDelay {
		t.Errorf("preview delay defaults to %s", d)
	}
}
