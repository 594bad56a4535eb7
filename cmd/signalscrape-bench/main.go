// Command signalscrape-bench measures signalscrape end to end on one
// machine. It starts mock-signal, nodes of bin/signalscrape and, when a
// scenario needs one, a private PostgreSQL, all as real processes on
// loopback; runs the chosen scenarios; and prints one table of figures,
// which it also writes to a results file with the machine's cores, memory
// and load. It measures and never judges: no figure makes it fail.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
)

// scenarioNames are the scenarios, in the order they run.
var scenarioNames = []string{"politeness", "machinery", "cache", "input", "status", "recovery"}

// config is the command line.
type config struct {
	binary    string
	out       string
	micro     string
	scenarios []string
	keep      bool

	politenessIDs     int
	politenessLatency string
	machineryIDs      int
	inputRows         int
	statusIDs         int
	statusRate        int
	statusDuration    time.Duration
	recoveryIDs       int
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(cfg, logger); err != nil {
		logger.Error("benchmark failed", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var cfg config
	var scenarios string
	fs := flag.NewFlagSet("signalscrape-bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.binary, "binary", "bin/signalscrape", "the signalscrape `binary` to run (make build)")
	fs.StringVar(&cfg.out, "out", "bench-results.md", "results `file` (Markdown), overwritten; empty: none")
	fs.StringVar(&cfg.micro, "micro", "", "`file` of micro-benchmark output to copy into the results file")
	fs.StringVar(&scenarios, "scenarios", "all", "comma-separated `list` of "+strings.Join(scenarioNames, ", ")+", or all")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the processes' logs and data instead of removing them")
	fs.IntVar(&cfg.politenessIDs, "politeness-ids", 1000, "ids of each politeness run")
	fs.StringVar(&cfg.politenessLatency, "politeness-latency", "5ms-20ms", "mock-signal's `latency` in the politeness runs")
	fs.IntVar(&cfg.machineryIDs, "machinery-ids", 10000, "ids of each machinery and cache run")
	fs.IntVar(&cfg.inputRows, "input-rows", 1000000, "rows of the large upload")
	fs.IntVar(&cfg.statusIDs, "status-ids", 3000, "ids of the work running while the status is read")
	fs.IntVar(&cfg.statusRate, "status-rate", 500, "status requests per second")
	fs.DurationVar(&cfg.statusDuration, "status-duration", 10*time.Second, "how long the status is read")
	fs.IntVar(&cfg.recoveryIDs, "recovery-ids", 3000, "ids of the recovery run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := cfg.check(fs, scenarios); err != nil {
		fmt.Fprintf(out, "signalscrape-bench: %v\n", err)
		return cfg, err
	}
	return cfg, nil
}

// check validates what the flag package cannot and fills cfg.scenarios.
func (cfg *config) check(fs *flag.FlagSet, scenarios string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if scenarios == "all" {
		cfg.scenarios = scenarioNames
	} else {
		for _, s := range strings.Split(scenarios, ",") {
			if !slices.Contains(scenarioNames, strings.TrimSpace(s)) {
				return fmt.Errorf("unknown scenario %q; want some of %s", s, strings.Join(scenarioNames, ", "))
			}
			cfg.scenarios = append(cfg.scenarios, strings.TrimSpace(s))
		}
	}
	sizes := []int{cfg.politenessIDs, cfg.machineryIDs, cfg.inputRows, cfg.statusIDs, cfg.statusRate, cfg.recoveryIDs}
	if slices.Min(sizes) < 10 {
		return errors.New("every size and the status rate must be at least 10")
	}
	if cfg.statusDuration <= 0 {
		return errors.New("-status-duration must be positive")
	}
	if _, err := os.Stat(cfg.binary); err != nil {
		return fmt.Errorf("no binary at %s: run make build first", cfg.binary)
	}
	return nil
}

// run measures the chosen scenarios, prints the table and writes the
// results file.
func run(cfg config, logger *slog.Logger) error {
	dir, err := os.MkdirTemp("", "signalscrape-bench-")
	if err != nil {
		return fmt.Errorf("making the work directory: %w", err)
	}
	b := &bench{cfg: cfg, lab: &lab{binary: cfg.binary, dir: dir}, t: &table{}, log: logger}
	defer b.close()
	m := describeMachine()

	for _, name := range scenarioNames {
		if !slices.Contains(cfg.scenarios, name) {
			continue
		}
		logger.Info("scenario", "name", name, "load", loadAvg())
		b.runScenario(name)
	}
	m.loadEnd, m.elapsed = loadAvg(), time.Since(m.started)
	b.close()
	cleanUp(cfg.keep || b.t.failed, dir, logger)

	fmt.Printf("\n%d cores, %s memory, load %s at start and %s at end\n\n", m.cores, m.memory, m.loadStart, m.loadEnd)
	b.t.write(os.Stdout)
	return writeOut(cfg, m, b.t)
}

// runScenario runs one scenario; machinery and cache share their runs.
func (b *bench) runScenario(name string) {
	switch name {
	case "politeness":
		b.politeness()
	case "machinery":
		b.machinery(true, slices.Contains(b.cfg.scenarios, "cache"))
	case "cache":
		if !slices.Contains(b.cfg.scenarios, "machinery") {
			b.machinery(false, true)
		}
	case "input":
		b.input()
	case "status":
		b.statusLoad()
	case "recovery":
		b.recovery()
	}
}

// cleanUp removes the work directory unless asked to keep it, as it is
// when a scenario failed.
func cleanUp(keep bool, dir string, logger *slog.Logger) {
	if keep {
		logger.Info("logs and data kept", "dir", dir)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logger.Warn("removing the work directory", "dir", dir, "err", err)
	}
}

// writeOut writes the results file, with the micro-benchmarks if given.
func writeOut(cfg config, m machine, t *table) error {
	if cfg.out == "" {
		return nil
	}
	var micro string
	if cfg.micro != "" {
		b, err := os.ReadFile(cfg.micro)
		if err != nil {
			return fmt.Errorf("reading micro-benchmarks: %w", err)
		}
		micro = string(b)
	}
	if err := writeResults(cfg.out, m, t, micro); err != nil {
		return err
	}
	fmt.Printf("\nwritten to %s\n", cfg.out)
	return nil
}
