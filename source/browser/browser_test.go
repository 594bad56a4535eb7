package browser

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/source"
	"github.com/signalscrape/signalscrape/source/mocksignal"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// TestFetchFixtureDonors fetches 50 donors, two at a time, from a site
// whose preview lags 300ms behind the search box and shows the previous
// search meanwhile: every body must be the donor's own file, and the browser
// must restart every 10 pages without losing a fetch.
func TestFetchFixtureDonors(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{PreviewDelay: 300 * time.Millisecond})
	s := newSource(t, Config{BaseURL: st.url, RestartAfter: 10, MaxTabs: 2})
	ids := fixtures.IDs(t, 50)

	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for id := range jobs {
				checkFetch(t, s, id)
			}
		})
	}
	for _, id := range ids {
		jobs <- id
	}
	close(jobs)
	wg.Wait()

	if got := s.Restarts(); got != 5 {
		t.Errorf("%d restarts after 50 pages with RestartAfter 10, want 5", got)
	}
	checkOneDownloadEach(t, st, ids)
}

func checkFetch(t *testing.T, s *Source, id string) {
	t.Helper()
	res, err := s.Fetch(context.Background(), id)
	if err != nil {
		t.Errorf("fetching %s: %v", id, err)
		return
	}
	if !bytes.Equal(res.Body, fixtures.Profile(t, id)) {
		t.Errorf("%s: body differs from the fixture: %.80q", id, res.Body)
	}
	if _, err := profile.Parse(res.Body, id); err != nil {
		t.Errorf("%s: %v", id, err)
	}
	if !strings.HasSuffix(res.URL, "/explore/cancerSample/"+id) {
		t.Errorf("%s: URL %s", id, res.URL)
	}
}

// checkOneDownloadEach checks that the site saw one profile request per
// donor: the browser took no other route to the profiles.
func checkOneDownloadEach(t *testing.T, st site, ids []string) {
	t.Helper()
	seen := profileRequests(t, st, len(ids))
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s: %d profile requests, want 1", id, seen[id])
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("profile requests for %d donors, want %d", len(seen), len(ids))
	}
}

// profileRequests counts the site's profile requests by donor. The site logs
// a request after its answer is sent, so the log is read again, for a few
// seconds, until it names want donors.
func profileRequests(t *testing.T, st site, want int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, err := mocksignal.ReadLog(st.log)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range entries {
			if strings.HasPrefix(e.Path, "/sample/") {
				seen[e.ID]++
			}
		}
		if len(seen) >= want || time.Now().After(deadline) {
			return seen
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHurriedClickGetsPreviousDonor shows the trap that Fetch avoids: a
// click on the preview right after typing follows the previous search.
func TestHurriedClickGetsPreviousDonor(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{PreviewDelay: 2 * time.Second})
	s := newSource(t, Config{BaseURL: st.url})
	checkFetch(t, s, "DO1000")

	inst, err := s.lease(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.release(inst, false)
	tab, closeTab := chromedp.NewContext(inst.ctx)
	defer closeTab()
	sel := s.cfg.Selectors
	err = chromedp.Do(tab,
		chromedp.Navigate(st.url),
		chromedp.Click(chromedp.CSS(sel.SearchContainer)),
		chromedp.SendKeys(chromedp.CSS(sel.SearchInput), "DO1005"),
		chromedp.Click(chromedp.CSS(sel.PreviewLink)),
		chromedp.WaitVisible(chromedp.CSS(sel.DownloadButton)))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(tab, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/explore/cancerSample/DO1000") {
		t.Fatalf("a hurried click on the preview for DO1005 led to %s (err %v), want DO1000's page", loc, err)
	}
}

func TestFetchUnknownDonor(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{})
	s := newSource(t, Config{BaseURL: st.url, NotFoundAfter: time.Second})
	checkFetch(t, s, "DO1000") // the preview starts with DO1000's link

	_, err := s.Fetch(context.Background(), "DO9999999")
	if !errors.Is(err, source.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !isPNG(evidenceOf(err)) {
		t.Errorf("no PNG screenshot with %v", err)
	}
	var se *StepError
	if !errors.As(err, &se) || !strings.Contains(se.HTML, "No results") || se.URL != st.url+"/" {
		t.Errorf("step error %+v", se)
	}
}

func TestFetchBrokenPage(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{BrokenPages: 1})
	s := newSource(t, Config{BaseURL: st.url, StepTimeout: 2 * time.Second})

	_, err := s.Fetch(context.Background(), "DO1000")
	if err == nil || errors.Is(err, source.ErrNotFound) || errors.Is(err, source.ErrUnavailable) {
		t.Fatalf("err = %v, want one to retry", err)
	}
	if !isPNG(evidenceOf(err)) {
		t.Errorf("no PNG screenshot with %v", err)
	}
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("no StepError in %v", err)
	}
	if se.Step != "wait for download button" || !strings.Contains(se.HTML, "Cancer sample DO1000") ||
		!strings.HasSuffix(se.URL, "/explore/cancerSample/DO1000") {
		t.Errorf("step %q at %s, html %.200q", se.Step, se.URL, se.HTML)
	}
	if page := pageOf(err); page == nil || !strings.HasPrefix(page.ContentType, "text/html") || string(page.Data) != se.HTML {
		t.Errorf("the page's HTML is not kept as evidence beside the screenshot: %+v", page)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the step's deadline", err)
	}
}

func TestFetchThrottled(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{ThrottleEvery: 1, RetryAfter: 7 * time.Second})
	s := newSource(t, Config{BaseURL: st.url, StepTimeout: 10 * time.Second})

	asked := time.Now()
	_, err := s.Fetch(context.Background(), "DO1000")
	var te *source.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a ThrottledError", err)
	}
	if te.Status != 429 || te.Until.Before(asked.Add(7*time.Second)) {
		t.Errorf("throttled with %d until %s, want 429 until 7s after %s", te.Status, te.Until, asked)
	}
}

// TestRestartPastMemory gives the browser a memory limit it is always past:
// it restarts after every page, and no fetch is lost.
func TestRestartPastMemory(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{})
	s := newSource(t, Config{BaseURL: st.url, MaxMemoryMB: 1})
	ids := fixtures.IDs(t, 2)
	for _, id := range ids {
		checkFetch(t, s, id)
	}
	if got := s.Restarts(); got != len(ids) {
		t.Errorf("%d restarts, want %d", got, len(ids))
	}
}

// TestRestartWaitsForFetchInFlight holds one donor's page while another
// fetch uses up the browser's pages: the browser is retired but not stopped
// under the held fetch, which then completes; the next fetch gets a fresh
// browser.
func TestRestartWaitsForFetchInFlight(t *testing.T) {
	requireChromium(t)
	ids := fixtures.IDs(t, 3)
	want := fixtures.Profile(t, ids[0])
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	st := startSiteWith(t, mocksignal.Config{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/explore/cancerSample/"+ids[0] {
				once.Do(func() { close(arrived) })
				<-release
			}
			next.ServeHTTP(w, r)
		})
	})
	s := newSource(t, Config{BaseURL: st.url, RestartAfter: 2, MaxTabs: 2})

	held := make(chan error, 1)
	go func() {
		res, err := s.Fetch(context.Background(), ids[0])
		if err == nil && !bytes.Equal(res.Body, want) {
			err = errors.New("body differs from the fixture")
		}
		held <- err
	}()
	select {
	case <-arrived:
	case err := <-held:
		t.Fatalf("the held fetch ended before reaching its page: %v", err)
	}
	checkFetch(t, s, ids[1]) // the browser's second and last page
	if got := s.Restarts(); got != 0 {
		t.Fatalf("%d restarts with a fetch in flight, want 0", got)
	}

	close(release)
	if err := <-held; err != nil {
		t.Fatalf("the fetch in flight across the restart: %v", err)
	}
	if got := s.Restarts(); got != 1 {
		t.Errorf("%d restarts once the retired browser is idle, want 1", got)
	}
	checkFetch(t, s, ids[2])
}

func TestFetchCanceled(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{PageDelay: time.Minute})
	s := newSource(t, Config{BaseURL: st.url})

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := s.Fetch(ctx, "DO1000")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if evidenceOf(err) != nil {
		t.Error("evidence taken of a fetch the caller gave up")
	}
}

func TestFetchAfterClose(t *testing.T) {
	requireChromium(t)
	st := startSite(t, mocksignal.Config{})
	s := newSource(t, Config{BaseURL: st.url})
	checkFetch(t, s, "DO1000")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(context.Background(), "DO1005"); !errors.Is(err, errClosed) {
		t.Fatalf("err = %v after Close", err)
	}
}

func TestFetchWithoutChromium(t *testing.T) {
	s := newSource(t, Config{BaseURL: "http://127.0.0.1:9", ChromiumPath: "/nonexistent/chromium"})
	if err := s.Available(); !errors.Is(err, source.ErrUnavailable) || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("Available() = %v", err)
	}
	if _, err := s.Fetch(context.Background(), "DO1000"); !errors.Is(err, source.ErrUnavailable) {
		t.Fatalf("Fetch: err = %v, want ErrUnavailable", err)
	}
	if s.ChromiumPath() != "" {
		t.Errorf("ChromiumPath() = %q", s.ChromiumPath())
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: ""},
		{BaseURL: "ftp://example.org"},
		{BaseURL: "http://"},
		{BaseURL: "http://127.0.0.1:9", StepTimeout: -time.Second},
		{BaseURL: "http://127.0.0.1:9", MaxTabs: -1},
	} {
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("New accepted %+v", cfg)
		}
	}
}

func TestKeyAndDefaults(t *testing.T) {
	s := newSource(t, Config{BaseURL: "http://127.0.0.1:9000", Selectors: Selectors{PreviewLink: "a.preview"}})
	if got := s.Key(); got != "browser:http://127.0.0.1:9000" {
		t.Errorf("Key() = %q", got)
	}
	want := DefaultSelectors()
	want.PreviewLink = "a.preview"
	if s.cfg.Selectors != want {
		t.Errorf("selectors %+v, want %+v", s.cfg.Selectors, want)
	}
	if s.cfg.StepTimeout != DefaultStepTimeout || s.cfg.RestartAfter != DefaultRestartAfter || cap(s.tabs) != DefaultMaxTabs {
		t.Errorf("defaults not applied: %+v", s.cfg)
	}
}

func TestNamesDonor(t *testing.T) {
	cases := []struct {
		url, id string
		want    bool
	}{
		{"/explore/cancerSample/DO1000", "DO1000", true},
		{"http://127.0.0.1:9000/explore/cancerSample/DO1000/", "DO1000", true},
		{"/explore/cancerSample/DO1000", "DO100", false},
		{"/explore/cancerSample/DO10000", "DO1000", false},
		{"/explore/cancerSample/a%2Fb", "a/b", false},
		{"", "DO1000", false},
	}
	for _, c := range cases {
		if got := namesDonor(c.url, c.id); got != c.want {
			t.Errorf("namesDonor(%q, %q) = %v", c.url, c.id, got)
		}
	}
}

func TestSafeName(t *testing.T) {
	for name, want := range map[string]bool{
		"0b4f3c2e-9a1d-4f7e-8c6b-5d2a1e0f9b8c": true,
		"":                                     false,
		"../x":                                 false,
		"a/b":                                  false,
		".":                                    false,
	} {
		if got := safeName(name); got != want {
			t.Errorf("safeName(%q) = %v", name, got)
		}
	}
}

func TestRetryAt(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              defaultRetryAfter,
		"soon":                          defaultRetryAfter,
		"12":                            12 * time.Second,
		"999999":                        maxRetryAfter,
		"Fri, 02 Jan 2026 03:05:05 GMT": time.Minute,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	}
	for header, want := range cases {
		if got := retryAt(header, now).Sub(now); got != want {
			t.Errorf("retryAt(%q) = now + %s, want + %s", header, got, want)
		}
	}
}
