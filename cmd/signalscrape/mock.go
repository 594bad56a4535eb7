package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/signalscrape/signalscrape/source/mocksignal"
)

// runMockSignal serves the stand-in of the SIGNAL site until SIGINT or
// SIGTERM.
func runMockSignal(args []string) int {
	cfg, err := parseMockFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serveMock(cfg, logger); err != nil {
		logger.Error("mock signal failed", "err", err)
		return 1
	}
	return 0
}

// parseMockFlags reads the flags of mock-signal into a checked Config; it
// tells out what is wrong with them.
func parseMockFlags(args []string, out io.Writer) (mocksignal.Config, error) {
	cfg := mocksignal.Config{RetryAfter: mocksignal.DefaultRetryAfter}
	fs := flag.NewFlagSet("mock-signal", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.Addr, "addr", mocksignal.DefaultAddr, "address to listen on")
	fs.StringVar(&cfg.ProfilesDir, "profiles", "../shared/fixtures/signal/profiles", "`dir`ectory of profiles named <id>.csv")
	fs.StringVar(&cfg.LogPath, "log", "", "`file` for the request log, one JSON line per request (truncated at start)")
	fs.Var(&cfg.Latency, "latency", "`delay` of each profile answer, fixed (50ms) or a range (20ms-80ms)")
	fs.BoolVar(&cfg.Synthesize, "synthesize", false, "answer donor ids (DO and digits) without a file with a made-up valid profile of that donor")
	fs.IntVar(&cfg.ThrottleEvery, "throttle-every", 0, "answer every `N`th profile request with 429 (0: never)")
	fs.IntVar(&cfg.ThrottleStorm, "throttle-storm", 0, "answer `N` profile requests in a row with 429 at each throttle (less than --throttle-every)")
	fs.Func("retry-after", "Retry-After of a throttled answer, seconds or a duration (default 1s)", func(s string) error {
		d, err := parseSeconds(s)
		cfg.RetryAfter = d
		return err
	})
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of profile requests answered 500 or 502")
	fs.Float64Var(&cfg.StaleRate, "stale-rate", 0, "fraction of profile requests answered with another donor's profile")
	fs.Float64Var(&cfg.GarbageRate, "garbage-rate", 0, "fraction of profile requests answered with HTML or a truncated profile")
	fs.Float64Var(&cfg.SlowRate, "slow-rate", 0, "fraction of profile requests that hang for --slow-delay first")
	fs.DurationVar(&cfg.SlowDelay, "slow-delay", mocksignal.DefaultSlowDelay, "`delay` of a slow profile answer")
	fs.Float64Var(&cfg.ResetRate, "reset-rate", 0, "fraction of profile requests whose connection is closed without an answer")
	fs.IntVar(&cfg.ErrorBurst, "error-burst", 0, "answer `N` profile requests in a row with 500, after --error-burst-at requests")
	fs.IntVar(&cfg.ErrorBurstAt, "error-burst-at", 0, "profile requests answered before the error burst starts")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the fault and latency draws")
	fs.DurationVar(&cfg.PageDelay, "page-delay", 0, "`delay` of each page of the site (home and cancer-sample pages)")
	fs.DurationVar(&cfg.PreviewDelay, "preview-delay", mocksignal.DefaultPreviewDelay, "`delay` after the last keystroke before the search preview shows the new search")
	fs.Float64Var(&cfg.BrokenPages, "broken-pages", 0, "fraction of cancer-sample pages served without their download button")
	fs.Func("missing", "comma-separated donor `ids` the site does not know even when their file exists (search, page and profile)", func(v string) error {
		cfg.Missing = append(cfg.Missing, splitList(v)...)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	err := checkMockFlags(fs, cfg)
	if err != nil {
		fmt.Fprintf(out, "mock-signal: %v\n", err)
	}
	return cfg, err
}

// checkMockFlags checks what the flag package cannot.
func checkMockFlags(fs *flag.FlagSet, cfg mocksignal.Config) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if info, err := os.Stat(cfg.ProfilesDir); err != nil || !info.IsDir() {
		return fmt.Errorf("--profiles %s is not a directory", cfg.ProfilesDir)
	}
	return cfg.Validate()
}

// parseSeconds reads a whole number of seconds or a duration.
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is neither a number of seconds nor a positive duration", s)
	}
	return d, nil
}

// serveMock runs the stand-in until a signal asks it to stop.
func serveMock(cfg mocksignal.Config, logger *slog.Logger) error {
	srv, err := mocksignal.New(cfg, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return errors.Join(err, srv.Stop(context.Background()))
	}
	fmt.Printf("mock-signal listening on http://%s\n", srv.Addr())
	<-ctx.Done()
	logger.Info("mock signal stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Stop(shutdownCtx)
}
