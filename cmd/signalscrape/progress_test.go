package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

func TestProgressBarRedrawsOneLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(cliEnv{stderr: &buf, terminal: true})
	st := runningStatus()
	st.Percent = 50
	p.update(&st)
	p.update(&st)
	p.stop()

	out := buf.String()
	if strings.Count(out, "\r") != 2 || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("output = %q, want two redraws and one final newline", out)
	}
	if !strings.Contains(out, "["+strings.Repeat("#", barWidth/2)+strings.Repeat("-", barWidth/2)+"] running  50.0%") {
		t.Errorf("output = %q, want a half-full bar", out)
	}
	if !strings.Contains(out, "eta 12s") {
		t.Errorf("output = %q, want the ETA", out)
	}
}

func TestProgressLinesPrintChangesAtMostEvery(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(cliEnv{stderr: &buf, lineEvery: 5 * time.Second, now: func() time.Time { return clock }})

	st := runningStatus()
	p.update(&st) // printed: first
	st.Counts.Completed, st.Counts.Pending = 2, 0
	clock = clock.Add(time.Second)
	p.update(&st) // too soon
	clock = clock.Add(5 * time.Second)
	p.update(&st) // printed: changed and late enough
	clock = clock.Add(10 * time.Second)
	p.update(&st) // unchanged
	final := finalStatus(client.StatusCompleted, 0)
	clock = clock.Add(time.Second)
	p.update(&final) // printed: final, however soon
	p.stop()

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines = %q, want 3", lines)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("output = %q, want no carriage returns", buf.String())
	}
	if !strings.HasPrefix(lines[1], "running  33.3% 2/3 done") || !strings.HasPrefix(lines[2], "completed 100.0% 3/3 done") {
		t.Errorf("lines = %q", lines)
	}
	if strings.Contains(lines[2], "eta") {
		t.Errorf("final line %q shows an ETA", lines[2])
	}
}

func TestETAText(t *testing.T) {
	for secs, want := range map[float64]string{0: "?", -3: "?", 12.4: "12s", 95: "1m35s"} {
		if got := etaText(secs); got != want {
			t.Errorf("etaText(%v) = %q, want %q", secs, got, want)
		}
	}
}
