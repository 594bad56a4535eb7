package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/source/browser"
)

// unsetOwnEnv removes the SIGNALSCRAPE_ variables of the test's
// environment until the test ends, so that the flags' defaults show.
func unsetOwnEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix) {
			t.Setenv(name, "") // restored when the test ends
			os.Unsetenv(name)
		}
	}
}

// parseServeFlags reads args and the environment as runServe does, and runs
// serve's checks.
func parseServeFlags(t *testing.T, args ...string) (*serveFlags, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f serveFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("flags %q: %v", args, err)
	}
	if err := applyEnv(fs); err != nil {
		t.Fatalf("environment: %v", err)
	}
	return &f, f.check()
}

// TestBrowserFlagDefaults checks that the --browser-* flags default to the
// browser source's own defaults, with a bound on memory.
func TestBrowserFlagDefaults(t *testing.T) {
	unsetOwnEnv(t)
	f, err := parseServeFlags(t)
	if err != nil {
		t.Fatalf("the defaults are refused: %v", err)
	}
	got := f.browserConfig("ua", nil)
	want := browser.Config{
		BaseURL:       "https://signal.mutationalsignatures.com",
		StepTimeout:   browser.DefaultStepTimeout,
		RestartAfter:  browser.DefaultRestartAfter,
		MaxMemoryMB:   defaultBrowserMaxMemoryMB,
		MaxTabs:       browser.DefaultMaxTabs,
		NoResultsText: browser.DefaultNoResultsText,
		NotFoundAfter: browser.DefaultNotFoundAfter,
		Selectors:     browser.DefaultSelectors(),
		UserAgent:     "ua",
	}
	if got != want {
		t.Errorf("default config\n%+v\nwant\n%+v", got, want)
	}
	if got.MaxMemoryMB <= 0 {
		t.Errorf("no memory bound by default: %d MB", got.MaxMemoryMB)
	}
}

// TestBrowserFlagsReachConfig sets every --browser-* flag, one of them from
// its environment variable, and checks that the browser source is given
// them and accepts them.
func TestBrowserFlagsReachConfig(t *testing.T) {
	unsetOwnEnv(t)
	t.Setenv("SIGNALSCRAPE_BROWSER_MAX_MEMORY_MB", "512")
	t.Setenv("SIGNALSCRAPE_BROWSER_MAX_TABS", "9") // the flag wins
	f, err := parseServeFlags(t,
		"--source-url", "http://127.0.0.1:9000",
		"--chromium", "/opt/chromium",
		"--browser-restart-pages", "7",
		"--browser-max-tabs", "3",
		"--browser-step-timeout", "12s",
		"--browser-not-found-after", "2s",
		"--browser-no-results-text", "Nothing found",
		"--browser-search-selector", `div[class^="Find"]`,
		"--browser-input-selector", `div[class^="Find"] input`,
		"--browser-preview-selector", `a[href^="/sample/"]`,
		"--browser-download-selector", `button.download`,
	)
	if err != nil {
		t.Fatal(err)
	}
	got := f.browserConfig("ua", nil)
	want := browser.Config{
		BaseURL:       "http://127.0.0.1:9000",
		ChromiumPath:  "/opt/chromium",
		StepTimeout:   12 * time.Second,
		RestartAfter:  7,
		MaxMemoryMB:   512,
		MaxTabs:       3,
		NoResultsText: "Nothing found",
		NotFoundAfter: 2 * time.Second,
		Selectors: browser.Selectors{
			SearchContainer: `div[class^="Find"]`,
			SearchInput:     `div[class^="Find"] input`,
			PreviewLink:     `a[href^="/sample/"]`,
			DownloadButton:  `button.download`,
		},
		UserAgent: "ua",
	}
	if got != want {
		t.Fatalf("config\n%+v\nwant\n%+v", got, want)
	}

	src, err := browser.New(got)
	if err != nil {
		t.Fatalf("the browser source refuses the flags' config: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserFlagsRejected checks that serve refuses values the browser
// source would ignore or could not work with, naming the flag.
func TestBrowserFlagsRejected(t *testing.T) {
	unsetOwnEnv(t)
	bad := map[string][]string{
		"--browser-restart-pages":     {"--browser-restart-pages", "0"},
		"--browser-max-memory-mb":     {"--browser-max-memory-mb", "-1"},
		"--browser-max-tabs":          {"--browser-max-tabs", "0"},
		"--browser-step-timeout":      {"--browser-step-timeout", "0s"},
		"--browser-not-found-after":   {"--browser-step-timeout", "5s", "--browser-not-found-after", "5s"},
		"--browser-no-results-text":   {"--browser-no-results-text", " "},
		"--browser-search-selector":   {"--browser-search-selector", ""},
		"--browser-input-selector":    {"--browser-input-selector", ""},
		"--browser-preview-selector":  {"--browser-preview-selector", " "},
		"--browser-download-selector": {"--browser-download-selector", ""},
	}
	for name, args := range bad {
		_, err := parseServeFlags(t, args...)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%q: error %v, want one naming %s", args, err, name)
		}
	}
	if _, err := parseServeFlags(t, "--browser-max-memory-mb", "0"); err != nil {
		t.Errorf("--browser-max-memory-mb 0 (no bound) refused: %v", err)
	}
}

// TestBrowserFlagFromEnvironmentChecked checks that a bad value from the
// environment is refused like a flag.
func TestBrowserFlagFromEnvironmentChecked(t *testing.T) {
	unsetOwnEnv(t)
	t.Setenv("SIGNALSCRAPE_BROWSER_RESTART_PAGES", "0")
	if _, err := parseServeFlags(t); err == nil || !strings.Contains(err.Error(), "--browser-restart-pages") {
		t.Errorf("SIGNALSCRAPE_BROWSER_RESTART_PAGES=0: error %v", err)
	}
}
