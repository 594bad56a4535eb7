// Package httpsource is the http source: one GET per donor to a URL template
// such as http://host/sample/{id}.csv, with the answer classified for the
// caller's retry policy.
package httpsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signalscrape/signalscrape/source"
)

const (
	// MaxBody is the largest body Fetch accepts; a profile is about 1.2 KiB.
	MaxBody = 1 << 20

	// DefaultTimeout bounds one request when Config.Timeout is zero.
	DefaultTimeout = 30 * time.Second

	// DefaultRetryAfter is the wait after a 429 or 503 whose Retry-After is
	// missing or unreadable: long enough to relieve a struggling site,
	// short enough not to stall a work.
	DefaultRetryAfter = 30 * time.Second

	// MaxRetryAfter caps the wait a site may ask for, so that one absurd
	// header cannot stall every work of the cluster for days.
	MaxRetryAfter = time.Hour

	// DefaultUserAgent is sent when Config.UserAgent is empty.
	DefaultUserAgent = "signalscrape"

	// maxEvidence bounds the body kept as evidence of an unexpected status.
	maxEvidence = 64 << 10
)

// Config configures a Source. Zero fields take defaults.
type Config struct {
	// Template is an http or https URL containing {id}, which Fetch
	// replaces by the path-escaped donor id.
	Template string
	// Client sends the requests; nil means a client of its own, without
	// keep-alive (see newClient). A client that reuses connections may
	// send a request twice.
	Client *http.Client
	// UserAgent is the User-Agent header; empty means DefaultUserAgent.
	UserAgent string
	// Timeout bounds one request, body included; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Source fetches profiles with one GET each. It is safe for concurrent use.
type Source struct {
	cfg Config
	now func() time.Time
}

var _ source.Source = (*Source)(nil)

// New checks cfg and returns a Source.
func New(cfg Config) (*Source, error) {
	if err := checkTemplate(cfg.Template); err != nil {
		return nil, fmt.Errorf("checking http source template: %w", err)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("checking http source timeout: %s is negative", cfg.Timeout)
	}
	if cfg.Client == nil {
		cfg.Client = newClient()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Source{cfg: cfg, now: time.Now}, nil
}

// newClient returns a client that opens a connection per request. With
// keep-alive, net/http sends a GET again by itself when a reused connection
// breaks before the answer: a second request that no permit covered, right
// after the first. A handshake per request is little for a site asked at
// most once a second.
func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	return &http.Client{Transport: t}
}

func checkTemplate(tmpl string) error {
	if !strings.Contains(tmpl, "{id}") {
		return fmt.Errorf("%q does not contain {id}", tmpl)
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{id}", "id"))
	if err != nil {
		return fmt.Errorf("parsing %q: %w", tmpl, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http or https URL", tmpl)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", tmpl)
	}
	return nil
}

// Key returns "http:" and the template: answers from one template are
// interchangeable.
func (s *Source) Key() string { return "http:" + s.cfg.Template }

// URL returns the address Fetch requests for donorID.
func (s *Source) URL(donorID string) string {
	return strings.ReplaceAll(s.cfg.Template, "{id}", url.PathEscape(donorID))
}

// Fetch sends one GET for donorID. A 200 gives its body, unvalidated; a 404
// gives source.ErrNotFound; a 429 or 503 gives a *source.ThrottledError
// whose Until follows Retry-After; anything else is an error to retry, with
// the body of an unexpected status as evidence.
func (s *Source) Fetch(ctx context.Context, donorID string) (source.Result, error) {
	if donorID == "" {
		return source.Result{}, errors.New("fetching profile: empty donor id")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	target := s.URL(donorID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return source.Result{}, fmt.Errorf("building request for %s: %w", target, err)
	}
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return source.Result{}, fmt.Errorf("fetching %s: %w", target, err)
	}
	defer closeBody(resp.Body)
	return s.classify(resp, target)
}

// classify turns a response into a result or one of the errors of Fetch.
func (s *Source) classify(resp *http.Response, target string) (source.Result, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		body, err := readLimited(resp.Body, MaxBody)
		if err != nil {
			return source.Result{}, fmt.Errorf("reading %s: %w", target, err)
		}
		return source.Result{Body: body, URL: target}, nil
	case http.StatusNotFound:
		return source.Result{}, fmt.Errorf("fetching %s: %w", target, source.ErrNotFound)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		until := s.retryAt(resp.Header.Get("Retry-After"))
		return source.Result{}, &source.ThrottledError{Status: resp.StatusCode, Until: until}
	default:
		return source.Result{}, unexpectedStatus(resp, target)
	}
}

func unexpectedStatus(resp *http.Response, target string) error {
	err := fmt.Errorf("fetching %s: unexpected status %s", target, resp.Status)
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxEvidence))
	if len(data) == 0 {
		return err
	}
	evidence := &source.Evidence{ContentType: resp.Header.Get("Content-Type"), Data: data}
	return &source.FetchError{Err: err, Evidence: evidence}
}

// readLimited reads all of r, failing if it holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return body, nil
}

// closeBody drains a little of what is left, so that the connection can be
// reused, and closes the body.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxEvidence))
	_ = body.Close()
}

// retryAt reads a Retry-After header, delta seconds or an HTTP date, into the
// time the site may be asked again: DefaultRetryAfter from now when the
// header is missing or unreadable, never later than MaxRetryAfter from now
// and never in the past.
func (s *Source) retryAt(header string) time.Time {
	now := s.now()
	wait := DefaultRetryAfter
	header = strings.TrimSpace(header)
	if secs, err := strconv.ParseUint(header, 10, 63); err == nil {
		wait = time.Duration(min(secs, uint64(MaxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(header); err == nil {
		wait = max(at.Sub(now), 0)
	}
	return now.Add(min(wait, MaxRetryAfter))
}
