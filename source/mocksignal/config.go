// Package mocksignal is a stand-in of the SIGNAL site for tests, demos and
// benchmarks: it serves profile files at /sample/{id}.csv and, for a
// browser, the pages that lead to them (a search box and a cancer-sample page
// per donor), can inject the site's faults (throttling, server errors, stale
// and garbage answers, slow and broken pages), and logs every request so
// that the politeness of a client can be checked.
package mocksignal

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultAddr is where the stand-in listens when Config.Addr is empty.
const DefaultAddr = "127.0.0.1:9000"

// DefaultRetryAfter is the Retry-After of a throttled answer when
// Config.RetryAfter is zero.
const DefaultRetryAfter = time.Second

// DefaultSlowDelay is how long a slow answer hangs when Config.SlowDelay is
// zero.
const DefaultSlowDelay = 10 * time.Second

// DefaultPreviewDelay is how long the search preview lags behind the typed
// text when Config.PreviewDelay is zero.
const DefaultPreviewDelay = 300 * time.Millisecond

// Config configures a Server. Zero fields take defaults where one is named.
//
// The faults of profiles apply to /sample/ requests only, those of pages
// (PageDelay, BrokenPages) to the pages only; Missing applies to both. Every
// ThrottleEvery-th request is throttled (and, in a storm, the ones after it);
// the others draw one number from a generator seeded with Seed
// that picks at most one of the error, stale and garbage faults with the
// given rates. The faults are therefore the same for the same sequence of
// requests; concurrent requests may take their turns in any order.
type Config struct {
	// Addr is the TCP address to listen on; empty means DefaultAddr.
	Addr string
	// ProfilesDir holds the profiles as <id>.csv; it is read once, by New.
	ProfilesDir string
	// LogPath, when set, receives one JSON line per request; the file is
	// truncated by New.
	LogPath string
	// Latency delays every /sample/ answer.
	Latency Latency
	// Synthesize answers a /sample/ request for a donor id (DO and digits)
	// that has no file with a made-up valid profile of that donor, the same
	// for every request, so that benchmarks can ask for any number of
	// donors. Stale and garbage faults spare these answers.
	Synthesize bool

	// ThrottleEvery, when positive, answers every ThrottleEvery-th
	// /sample/ request with 429 and a Retry-After header.
	ThrottleEvery int
	// ThrottleStorm, when above 1, makes each throttle a storm: that many
	// requests in a row, from every ThrottleEvery-th on, are answered 429.
	// It must be less than ThrottleEvery.
	ThrottleStorm int
	// RetryAfter is the wait a throttled answer asks for, sent in whole
	// seconds rounded up; zero means DefaultRetryAfter.
	RetryAfter time.Duration
	// ErrorRate is the fraction of requests answered 500 or 502.
	ErrorRate float64
	// StaleRate is the fraction of requests for a known donor answered
	// with another donor's profile, as a browser that clicked the wrong
	// search result would get.
	StaleRate float64
	// GarbageRate is the fraction of requests for a known donor answered
	// 200 with an HTML page or a truncated profile.
	GarbageRate float64
	// SlowRate is the fraction of requests that hang for SlowDelay before
	// they are answered, as a struggling site would.
	SlowRate float64
	// SlowDelay is how long a slow request hangs; zero means
	// DefaultSlowDelay.
	SlowDelay time.Duration
	// ResetRate is the fraction of requests whose connection is closed
	// without an answer.
	ResetRate float64
	// ErrorBurst, when positive, answers ErrorBurst requests in a row with
	// 500, starting after the ErrorBurstAt-th request: a site that fails
	// for a while. Throttling still comes first.
	ErrorBurst   int
	ErrorBurstAt int
	// Seed seeds the generator of faults and latencies.
	Seed uint64

	// PageDelay delays every page of the site, the home page and the
	// cancer-sample pages, as a slow site would.
	PageDelay time.Duration
	// PreviewDelay is how long after the last keystroke the search preview
	// is updated; until then it shows the previous search. Zero means
	// DefaultPreviewDelay.
	PreviewDelay time.Duration
	// BrokenPages is the fraction of cancer-sample pages served without
	// their download button.
	BrokenPages float64
	// Missing lists donors that the site does not know even when their
	// file exists: the search preview leaves them out, their cancer-sample
	// page and their /sample/ file answer 404, and Synthesize spares them.
	Missing []string
}

// Validate reports the first setting that makes no sense.
func (c Config) Validate() error {
	if c.ProfilesDir == "" {
		return errors.New("no profiles directory")
	}
	if err := c.Latency.validate(); err != nil {
		return err
	}
	if c.ThrottleEvery < 0 {
		return fmt.Errorf("throttle every %d: must not be negative", c.ThrottleEvery)
	}
	if c.ThrottleStorm < 0 || (c.ThrottleStorm > 1 && c.ThrottleStorm >= c.ThrottleEvery) {
		return fmt.Errorf("throttle storm %d: must be at least 0 and less than throttle every (%d)", c.ThrottleStorm, c.ThrottleEvery)
	}
	if c.RetryAfter < 0 {
		return fmt.Errorf("retry after %s: must not be negative", c.RetryAfter)
	}
	if c.ErrorBurst < 0 || c.ErrorBurstAt < 0 || c.SlowDelay < 0 {
		return fmt.Errorf("error burst %d at %d, slow delay %s: must not be negative", c.ErrorBurst, c.ErrorBurstAt, c.SlowDelay)
	}
	if c.PageDelay < 0 || c.PreviewDelay < 0 {
		return fmt.Errorf("page delay %s, preview delay %s: must not be negative", c.PageDelay, c.PreviewDelay)
	}
	for _, id := range c.Missing {
		if !validID(id) {
			return fmt.Errorf("missing donor %q: not a donor id", id)
		}
	}
	rates := []struct {
		name string
		rate float64
	}{
		{"error", c.ErrorRate}, {"stale", c.StaleRate}, {"garbage", c.GarbageRate}, {"broken pages", c.BrokenPages},
		{"slow", c.SlowRate}, {"reset", c.ResetRate},
	}
	for _, r := range rates {
		if !(r.rate >= 0 && r.rate <= 1) {
			return fmt.Errorf("%s rate %v: must be between 0 and 1", r.name, r.rate)
		}
	}
	if sum := c.ErrorRate + c.StaleRate + c.GarbageRate + c.SlowRate + c.ResetRate; sum > 1 {
		return fmt.Errorf("error, stale, garbage, slow and reset rates add up to %v, more than 1", sum)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.PreviewDelay == 0 {
		c.PreviewDelay = DefaultPreviewDelay
	}
	if c.SlowDelay == 0 {
		c.SlowDelay = DefaultSlowDelay
	}
	return c
}

// Latency is the delay before a /sample/ answer, drawn uniformly from
// [Min, Max]; equal bounds give a fixed delay. It is a flag.Value.
type Latency struct {
	Min, Max time.Duration
}

// ParseLatency reads a fixed latency ("50ms") or a range ("20ms-80ms").
func ParseLatency(s string) (Latency, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	least, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return Latency{}, fmt.Errorf("parsing latency %q: %w", s, err)
	}
	l := Latency{Min: least, Max: least}
	if isRange {
		if l.Max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return Latency{}, fmt.Errorf("parsing latency %q: %w", s, err)
		}
	}
	if err := l.validate(); err != nil {
		return Latency{}, err
	}
	return l, nil
}

func (l Latency) validate() error {
	if l.Min < 0 || l.Max < l.Min {
		return fmt.Errorf("latency %s: want 0 <= min <= max", l)
	}
	return nil
}

// String formats l as ParseLatency reads it.
func (l Latency) String() string {
	if l.Min == l.Max {
		return l.Min.String()
	}
	return l.Min.String() + "-" + l.Max.String()
}

// Set parses s into l, for the flag package.
func (l *Latency) Set(s string) error {
	parsed, err := ParseLatency(s)
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}
