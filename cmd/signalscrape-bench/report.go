package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// row is one figure of the table.
type row struct {
	scenario string
	setup    string
	measure  string
	value    string
	goal     string
}

// table collects the figures in the order they were measured.
type table struct {
	rows   []row
	failed bool
}

func (t *table) add(scenario, setup, measure, value, goal string) {
	t.rows = append(t.rows, row{scenario, setup, measure, value, goal})
}

// failed records a scenario that could not be measured, and why.
func (t *table) fail(scenario, setup string, err error) {
	t.failed = true
	t.add(scenario, setup, "not measured", "error: "+strings.ReplaceAll(err.Error(), "\n", " "), "")
}

// write prints the table in Markdown, its columns padded for a terminal.
func (t *table) write(w io.Writer) {
	header := row{"scenario", "setup", "measure", "value", "goal"}
	all := append([]row{header}, t.rows...)
	var width [5]int
	for _, r := range all {
		for i, cell := range r.cells() {
			width[i] = max(width[i], len(cell))
		}
	}
	line := func(cells [5]string) {
		for i, cell := range cells {
			fmt.Fprintf(w, "| %-*s ", width[i], cell)
		}
		fmt.Fprintln(w, "|")
	}
	line(header.cells())
	var rule [5]string
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
	}
	line(rule)
	for _, r := range t.rows {
		line(r.cells())
	}
}

func (r row) cells() [5]string {
	return [5]string{r.scenario, r.setup, r.measure, r.value, r.goal}
}

// machine describes where the figures were measured.
type machine struct {
	cpu       string
	cores     int
	memory    string
	loadStart string
	loadEnd   string
	goVersion string
	started   time.Time
	elapsed   time.Duration
}

func describeMachine() machine {
	return machine{
		cpu:       cpuModel(),
		cores:     runtime.NumCPU(),
		memory:    memTotal(),
		loadStart: loadAvg(),
		goVersion: runtime.Version(),
		started:   time.Now().UTC(),
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// memTotal is MemTotal of /proc/meminfo in GiB.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err == nil {
			return fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// writeResults writes the results file: the machine, the table, and the
// micro-benchmarks' output when there is one.
func writeResults(path string, m machine, t *table, micro string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	fmt.Fprintf(f, "# Benchmark results\n\n")
	fmt.Fprintf(f, "Written by `make bench` (`cmd/signalscrape-bench`); the README's Performance section says what each figure means.\n\n")
	fmt.Fprintf(f, "- date: %s (run took %s)\n", m.started.Format("2006-01-02 15:04 UTC"), m.elapsed.Round(time.Second))
	fmt.Fprintf(f, "- machine: %d cores (%s), %s memory, %s\n", m.cores, m.cpu, m.memory, m.goVersion)
	fmt.Fprintf(f, "- load average (1, 5, 15 min) at start: %s; at end: %s\n", m.loadStart, m.loadEnd)
	fmt.Fprintf(f, "- %s\n\n", quietNote(m.loadStart, m.cores))
	fmt.Fprintf(f, "## End to end\n\n")
	t.write(f)
	if micro != "" {
		fmt.Fprintf(f, "\n## Micro-benchmarks\n\n`go test -run '^$' -bench . -benchmem`; the output feeds `benchstat` as it is.\n\n```\n%s```\n", micro)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}

// quietNote says whether the machine was busy when the run started: a
// 1-minute load average of half its cores or more.
func quietNote(loadStart string, cores int) string {
	first, _, _ := strings.Cut(loadStart, " ")
	load, err := strconv.ParseFloat(first, 64)
	switch {
	case err != nil:
		return "the load at the start is unknown, so the timings may be noisy"
	case load >= float64(cores)/2:
		return "the machine was busy when the run started, so the timings are noisy: compare runs on a quiet machine"
	}
	return "the machine was quiet when the run started (the load at the end includes the benchmark's own processes)"
}
