package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// barWidth is the number of cells of the progress bar.
const barWidth = 24

// progress shows how a work advances while upload --wait polls it.
type progress interface {
	// update shows st.
	update(st *client.Status)
	// stop ends the display, leaving the cursor on a fresh line.
	stop()
}

// newProgress returns a redrawn bar on a terminal, plain lines otherwise.
func newProgress(env cliEnv) progress {
	if env.terminal {
		return &progressBar{w: env.stderr}
	}
	return &progressLines{w: env.stderr, every: env.lineEvery, now: env.now}
}

// progressBar redraws one line with a bar, for a terminal.
type progressBar struct {
	w     io.Writer
	drawn bool
}

func (b *progressBar) update(st *client.Status) {
	filled := min(barWidth, max(0, int(st.Percent*barWidth/100)))
	bar := strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled)
	fmt.Fprintf(b.w, "\r[%s] %s\x1b[K", bar, progressText(st))
	b.drawn = true
}

func (b *progressBar) stop() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}

// progressLines writes a line when the work changed, at most once per
// every, and always its final state; for logs and pipes.
type progressLines struct {
	w       io.Writer
	every   time.Duration
	now     func() time.Time
	last    string
	lastAt  time.Time
	printed bool
}

func (p *progressLines) update(st *client.Status) {
	text := progressText(st)
	if text == p.last {
		return
	}
	now := p.now()
	if p.printed && !st.Finished() && now.Sub(p.lastAt) < p.every {
		return
	}
	fmt.Fprintln(p.w, text)
	p.last, p.lastAt, p.printed = text, now, true
}

func (p *progressLines) stop() {}

// progressText describes a status in a few words: state, percent, counts
// and, while running, the estimated time left.
func progressText(st *client.Status) string {
	c := st.Counts
	done := c.Completed + c.Failed + c.Cancelled
	text := fmt.Sprintf("%s %5.1f%% %d/%d done (%d running, %d pending, %d failed)",
		st.Status, st.Percent, done, st.Total, c.Running, c.Pending, c.Failed)
	if !st.Finished() {
		text += " eta " + etaText(st.ETASeconds)
	}
	return text
}

// etaText words an estimate in seconds, "?" when there is none.
func etaText(seconds float64) string {
	if seconds <= 0 {
		return "?"
	}
	return (time.Duration(seconds * float64(time.Second))).Round(time.Second).String()
}
