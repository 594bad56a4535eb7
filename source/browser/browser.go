// Package browser is the browser source: it fetches a donor's profile from
// the SIGNAL site as a person does, in headless Chromium driven through the
// DevTools protocol. It opens the site, clicks the search box, types the
// donor id, waits until the search preview lists that donor, follows the
// link to the donor's cancer-sample page and presses "Download as CSV"; the
// downloaded file is the body of the result.
//
// One Chromium process serves a Source. It starts at the first Fetch and is
// restarted after Config.RestartAfter pages, or when its memory grows past
// Config.MaxMemoryMB; each donor gets a fresh incognito-like browser context,
// so no cookie, cache or page state passes from one donor to the next.
package browser

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/signalscrape/signalscrape/source"
)

const (
	// DefaultStepTimeout bounds each step of a fetch when Config.StepTimeout
	// is zero.
	DefaultStepTimeout = 30 * time.Second

	// DefaultRestartAfter is the number of pages after which the browser
	// restarts when Config.RestartAfter is zero: Chromium grows over a
	// long run, and a fresh process costs about a second.
	DefaultRestartAfter = 200

	// DefaultMaxTabs caps the tabs open at once when Config.MaxTabs is
	// zero; the caller's permits normally keep fewer open.
	DefaultMaxTabs = 4

	// DefaultNoResultsText is what the preview shows for a donor the site
	// does not know, when Config.NoResultsText is empty.
	DefaultNoResultsText = "No results"

	// DefaultNotFoundAfter is how long the preview must show
	// Config.NoResultsText, and no link to the donor, before Fetch decides
	// that the site does not know the donor, when Config.NotFoundAfter is
	// zero. It is long against the site's search, as the answer is final.
	DefaultNotFoundAfter = 5 * time.Second

	// MaxBody is the largest download Fetch accepts; a profile is about
	// 1.2 KiB.
	MaxBody = 1 << 20
)

// Selectors are the CSS selectors of the elements Fetch uses. They match
// prefixes of class names and attributes, never the hashes the site's
// styling generates.
type Selectors struct {
	// SearchContainer is clicked to open the search box.
	SearchContainer string
	// SearchInput receives the donor id once the box is open.
	SearchInput string
	// PreviewLink matches the links of the search preview; Fetch follows
	// the one whose last path segment is the donor id.
	PreviewLink string
	// DownloadButton, on the cancer-sample page, downloads the profile.
	DownloadButton string
}

// DefaultSelectors returns the selectors of the SIGNAL site.
func DefaultSelectors() Selectors {
	return Selectors{
		SearchContainer: `[class*="Search__Container"]`,
		SearchInput:     `[class*="Search__Container"] input`,
		PreviewLink:     `a[href^="/explore/cancerSample/"]`,
		DownloadButton:  `button[label='Download as CSV']`,
	}
}

// withDefaults fills the empty selectors with the default ones.
func (s Selectors) withDefaults() Selectors {
	d := DefaultSelectors()
	s.SearchContainer = cmp.Or(s.SearchContainer, d.SearchContainer)
	s.SearchInput = cmp.Or(s.SearchInput, d.SearchInput)
	s.PreviewLink = cmp.Or(s.PreviewLink, d.PreviewLink)
	s.DownloadButton = cmp.Or(s.DownloadButton, d.DownloadButton)
	return s
}

// Config configures a Source. Zero fields take defaults.
type Config struct {
	// BaseURL is the site's home page, an http or https URL.
	BaseURL string
	// ChromiumPath is the browser to run; empty means the first of
	// chromium, chromium-browser and google-chrome found in PATH or in
	// /usr/bin.
	ChromiumPath string
	// StepTimeout bounds each step of a fetch; zero means
	// DefaultStepTimeout.
	StepTimeout time.Duration
	// RestartAfter is the number of pages a browser serves before it is
	// restarted; zero means DefaultRestartAfter.
	RestartAfter int
	// MaxMemoryMB, when positive, restarts the browser once the resident
	// memory of its processes adds up to more; it is measured after each
	// page on Linux only.
	MaxMemoryMB int
	// MaxTabs caps the donors fetched at once; zero means DefaultMaxTabs.
	MaxTabs int
	// NoResultsText is what the preview shows for an unknown donor; empty
	// means DefaultNoResultsText.
	NoResultsText string
	// NotFoundAfter is how long the preview must show NoResultsText before
	// the donor counts as unknown; zero means DefaultNotFoundAfter.
	NotFoundAfter time.Duration
	// Selectors are the elements to use; empty ones take the defaults.
	Selectors Selectors
	// Logger receives the browser's events; nil discards them.
	Logger *slog.Logger
	// UserAgent, when set, replaces the browser's User-Agent.
	UserAgent string
	// DownloadDir holds one fresh directory per fetch for the download;
	// empty means a temporary directory that New makes and Close removes.
	DownloadDir string
}

func (c Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("parsing base URL %q: %w", c.BaseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q is not an http or https URL with a host", c.BaseURL)
	}
	if c.StepTimeout < 0 || c.NotFoundAfter < 0 {
		return fmt.Errorf("step timeout %s, not found after %s: must not be negative", c.StepTimeout, c.NotFoundAfter)
	}
	if c.RestartAfter < 0 || c.MaxMemoryMB < 0 || c.MaxTabs < 0 {
		return fmt.Errorf("restart after %d, max memory %d MB, max tabs %d: must not be negative",
			c.RestartAfter, c.MaxMemoryMB, c.MaxTabs)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.StepTimeout == 0 {
		c.StepTimeout = DefaultStepTimeout
	}
	if c.RestartAfter == 0 {
		c.RestartAfter = DefaultRestartAfter
	}
	if c.MaxTabs == 0 {
		c.MaxTabs = DefaultMaxTabs
	}
	if c.NoResultsText == "" {
		c.NoResultsText = DefaultNoResultsText
	}
	if c.NotFoundAfter == 0 {
		c.NotFoundAfter = DefaultNotFoundAfter
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Selectors = c.Selectors.withDefaults()
	return c
}

// Source fetches profiles through the site's pages in Chromium. It is safe
// for concurrent use; at most Config.MaxTabs fetches run at once and the
// others wait. Close stops the browser.
type Source struct {
	cfg      Config
	logger   *slog.Logger
	host     string // of the base URL
	chromium string
	// missing is why the source cannot work on this node, or nil.
	missing error
	// downloads holds the per-fetch download directories.
	downloads string
	// ownDownloads is set when New made downloads, so that Close removes
	// it.
	ownDownloads bool
	tabs         chan struct{}
	restarts     atomic.Int64

	// gate is a mutex that a waiter can give up on: holding it means
	// having sent to it. It guards the fields below.
	gate   chan struct{}
	inst   *instance
	closed bool
}

var _ source.Source = (*Source)(nil)

// New checks cfg and returns a Source. It starts no browser and does not
// fail when Chromium is missing: Available reports that, and Fetch then
// returns source.ErrUnavailable.
func New(cfg Config) (*Source, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("checking browser source config: %w", err)
	}
	cfg = cfg.withDefaults()
	base, _ := url.Parse(cfg.BaseURL) // checked by validate
	s := &Source{
		cfg:       cfg,
		logger:    cfg.Logger,
		host:      base.Host,
		downloads: cfg.DownloadDir,
		tabs:      make(chan struct{}, cfg.MaxTabs),
		gate:      make(chan struct{}, 1),
	}
	s.chromium, s.missing = findChromium(cfg.ChromiumPath)
	if s.downloads == "" {
		dir, err := os.MkdirTemp("", "signalscrape-downloads-")
		if err != nil {
			return nil, fmt.Errorf("making download directory: %w", err)
		}
		s.downloads, s.ownDownloads = dir, true
	}
	return s, nil
}

// Key returns "browser:" and the base URL: answers from one site are
// interchangeable.
func (s *Source) Key() string { return "browser:" + s.cfg.BaseURL }

// Available returns nil when Chromium was found, else an error that wraps
// source.ErrUnavailable and says how to install it.
func (s *Source) Available() error { return s.missing }

// ChromiumPath returns the browser that Fetch runs, or "" when none was
// found.
func (s *Source) ChromiumPath() string { return s.chromium }

// Restarts returns how many browsers were stopped to be replaced, after
// Config.RestartAfter pages, past Config.MaxMemoryMB, or after they died.
func (s *Source) Restarts() int { return int(s.restarts.Load()) }

// Close stops the browser, failing the fetches in flight, and removes the
// download directory New made. Fetch fails after Close.
func (s *Source) Close() error {
	s.gate <- struct{}{}
	s.closed = true
	inst := s.inst
	s.inst = nil
	<-s.gate
	if inst != nil {
		inst.stop()
		inst.markStopped()
	}
	if s.ownDownloads {
		if err := os.RemoveAll(s.downloads); err != nil {
			return fmt.Errorf("removing download directory: %w", err)
		}
	}
	return nil
}

// errClosed is returned by Fetch after Close.
var errClosed = errors.New("browser source closed")
