package httpsource

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/source"
)

var fixedNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newSource starts a loopback server with handler and returns a Source whose
// template points at it and whose clock stands at fixedNow.
func newSource(t *testing.T, handler http.HandlerFunc, timeout time.Duration) *Source {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	s, err := New(Config{Template: srv.URL + "/sample/{id}.csv", Client: srv.Client(), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return fixedNow }
	return s
}

func TestNewChecksConfig(t *testing.T) {
	bad := []Config{
		{Template: ""},
		{Template: "http://127.0.0.1:9000/sample/x.csv"},
		{Template: "ftp://127.0.0.1/{id}"},
		{Template: "/sample/{id}.csv"},
		{Template: "http:///sample/{id}.csv"},
		{Template: "http://[::1/{id}"},
		{Template: "http://127.0.0.1/{id}", Timeout: -time.Second},
	}
	for _, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	s, err := New(Config{Template: "https://example.org/p/{id}.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Key(); got != "http:https://example.org/p/{id}.csv" {
		t.Errorf("Key() = %q", got)
	}
	if got := s.URL("a/b c"); got != "https://example.org/p/a%2Fb%20c.csv" {
		t.Errorf("URL() = %q", got)
	}
}

func TestFetchOK(t *testing.T) {
	seen := make(chan *http.Request, 1)
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Clone(context.Background())
		_, _ = w.Write([]byte("profile body"))
	}, 0)
	res, err := s.Fetch(context.Background(), "DO 1/2")
	if err != nil {
		t.Fatal(err)
	}
	req := <-seen
	gotURI, gotAgent := req.RequestURI, req.Header.Get("User-Agent")
	if string(res.Body) != "profile body" {
		t.Errorf("body %q", res.Body)
	}
	if gotURI != "/sample/DO%201%2F2.csv" {
		t.Errorf("request URI %q", gotURI)
	}
	if !strings.HasSuffix(res.URL, "/sample/DO%201%2F2.csv") {
		t.Errorf("result URL %q", res.URL)
	}
	if gotAgent != DefaultUserAgent {
		t.Errorf("User-Agent %q", gotAgent)
	}
}

func TestFetchUserAgent(t *testing.T) {
	agents := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents <- r.Header.Get("User-Agent")
	}))
	defer srv.Close()
	s, err := New(Config{Template: srv.URL + "/{id}", UserAgent: "tester/1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(context.Background(), "DO1"); err != nil {
		t.Fatal(err)
	}
	if got := <-agents; got != "tester/1" {
		t.Errorf("User-Agent %q", got)
	}
}

func TestFetchTooLarge(t *testing.T) {
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, MaxBody+1))
	}, 0)
	_, err := s.Fetch(context.Background(), "DO1")
	if err == nil || errors.Is(err, source.ErrNotFound) {
		t.Fatalf("err = %v, want a plain error", err)
	}
}

func TestFetchNotFound(t *testing.T) {
	s := newSource(t, http.NotFound, 0)
	_, err := s.Fetch(context.Background(), "DO1")
	if !errors.Is(err, source.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestFetchThrottled(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header string
		want   time.Time
	}{
		{"seconds", http.StatusTooManyRequests, "7", fixedNow.Add(7 * time.Second)},
		{"zero seconds", http.StatusTooManyRequests, "0", fixedNow},
		{"date", http.StatusServiceUnavailable, fixedNow.Add(90 * time.Second).Format(http.TimeFormat), fixedNow.Add(90 * time.Second)},
		{"past date", http.StatusServiceUnavailable, fixedNow.Add(-time.Hour).Format(http.TimeFormat), fixedNow},
		{"missing", http.StatusTooManyRequests, "", fixedNow.Add(DefaultRetryAfter)},
		{"garbled", http.StatusTooManyRequests, "soon", fixedNow.Add(DefaultRetryAfter)},
		{"negative", http.StatusTooManyRequests, "-5", fixedNow.Add(DefaultRetryAfter)},
		{"huge", http.StatusServiceUnavailable, "99999999999", fixedNow.Add(MaxRetryAfter)},
		{"far date", http.StatusServiceUnavailable, fixedNow.Add(48 * time.Hour).Format(http.TimeFormat), fixedNow.Add(MaxRetryAfter)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(c.status)
			}, 0)
			_, err := s.Fetch(context.Background(), "DO1")
			var throttled *source.ThrottledError
			if !errors.As(err, &throttled) {
				t.Fatalf("err = %v, want a ThrottledError", err)
			}
			if throttled.Status != c.status || !throttled.Until.Equal(c.want) {
				t.Fatalf("got status %d until %s, want %d until %s", throttled.Status, throttled.Until, c.status, c.want)
			}
		})
	}
}

func TestFetchServerErrors(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusForbidden} {
		s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = w.Write([]byte("<html>broken</html>"))
		}, 0)
		_, err := s.Fetch(context.Background(), "DO1")
		assertRetryable(t, err)
		var fe *source.FetchError
		if !errors.As(err, &fe) || fe.Evidence == nil || string(fe.Evidence.Data) != "<html>broken</html>" ||
			fe.Evidence.ContentType != "text/html" {
			t.Errorf("status %d: err = %#v, want evidence of the body", status, err)
		}
	}
}

func TestFetchServerErrorWithoutBody(t *testing.T) {
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}, 0)
	_, err := s.Fetch(context.Background(), "DO1")
	assertRetryable(t, err)
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("err = %v, want the status in it", err)
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}, 50*time.Millisecond)
	defer close(release)
	_, err := s.Fetch(context.Background(), "DO1")
	assertRetryable(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline", err)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	template := srv.URL + "/{id}"
	srv.Close()
	s, err := New(Config{Template: template})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(context.Background(), "DO1")
	assertRetryable(t, err)
}

func TestFetchCancelled(t *testing.T) {
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Fetch(ctx, "DO1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFetchEmptyID(t *testing.T) {
	s := newSource(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("requested an empty id")
	}, 0)
	if _, err := s.Fetch(context.Background(), ""); err == nil {
		t.Fatal("accepted an empty id")
	}
}

// assertRetryable checks that err is an error the caller retries: neither
// not-found nor throttled.
func assertRetryable(t *testing.T, err error) {
	t.Helper()
	var throttled *source.ThrottledError
	if err == nil || errors.Is(err, source.ErrNotFound) || errors.As(err, &throttled) {
		t.Errorf("err = %v, want a retryable error", err)
	}
}

// TestFetchResetIsNotRepeated resets the connection of every second
// request, as a struggling site may: the default client must report the
// error, not send the request again on its own.
func TestFetchResetIsNotRepeated(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1)%2 == 1 {
			_, _ = w.Write([]byte("ok"))
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}))
	defer srv.Close()
	s, err := New(Config{Template: srv.URL + "/sample/{id}.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(context.Background(), "DO1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(context.Background(), "DO1"); err == nil {
		t.Fatal("a reset connection gave no error")
	}
	if n := requests.Load(); n != 2 {
		t.Fatalf("the site saw %d requests for 2 fetches", n)
	}
}
