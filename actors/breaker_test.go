package actors

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/source"
)

const (
	outAnswered = messages.FetchOutcome_FETCH_OUTCOME_ANSWERED
	outFailed   = messages.FetchOutcome_FETCH_OUTCOME_FAILED
	outNone     = messages.FetchOutcome_FETCH_OUTCOME_NONE
)

// TestBreakerOpensProbesAndCloses walks the breaker through a burst of
// failures: it opens at the threshold, a failed probe opens it again from
// the probe's time, and an answer closes it.
func TestBreakerOpensProbesAndCloses(t *testing.T) {
	b := breaker{threshold: 3, cooldown: 10 * time.Second}
	t0 := time.Unix(1000, 0)

	for i := range 2 {
		if opened, _ := b.record(outFailed, t0); opened || !b.notBefore().IsZero() || b.capacity(4) != 4 {
			t.Fatalf("failure %d of 3 opened the breaker", i+1)
		}
	}
	b.record(outAnswered, t0)
	b.record(outFailed, t0)
	if !b.notBefore().IsZero() {
		t.Fatal("an answer between failures must restart the count")
	}

	b.record(outFailed, t0)
	opened, _ := b.record(outFailed, t0.Add(time.Second))
	if !opened || !b.notBefore().Equal(t0.Add(11*time.Second)) || b.capacity(4) != 1 {
		t.Fatalf("after 3 failures in a row: opened %v, not before %v, capacity %d; want open until +11s with one probe",
			opened, b.notBefore(), b.capacity(4))
	}

	b.record(outNone, t0.Add(12*time.Second))
	if !b.notBefore().Equal(t0.Add(11 * time.Second)) {
		t.Fatal("an abandoned probe must leave the breaker as it was")
	}
	opened, _ = b.record(outFailed, t0.Add(13*time.Second))
	if opened || !b.notBefore().Equal(t0.Add(23*time.Second)) || b.capacity(4) != 1 {
		t.Fatalf("a failed probe must start another cool-down: not before %v", b.notBefore())
	}

	_, closed := b.record(outAnswered, t0.Add(24*time.Second))
	if !closed || !b.notBefore().IsZero() || b.capacity(4) != 4 {
		t.Fatalf("an answered probe must close the breaker: closed %v, capacity %d", closed, b.capacity(4))
	}
	if opened, _ := b.record(outFailed, t0.Add(25*time.Second)); opened {
		t.Fatal("one failure after closing opened the breaker again")
	}
}

func TestBreakerDisabled(t *testing.T) {
	b := breaker{}
	for range 100 {
		b.record(outFailed, time.Now())
	}
	if !b.notBefore().IsZero() || b.capacity(2) != 2 {
		t.Fatal("a breaker without a threshold must never open")
	}
}

// TestOutcome checks how a fetch's end feeds the breaker.
func TestOutcome(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	lost := &Lease{lost: make(chan struct{})}
	lost.markLost()
	held := &Lease{lost: make(chan struct{})}

	cases := []struct {
		name  string
		ctx   context.Context
		lease *Lease
		err   error
		want  messages.FetchOutcome
	}{
		{"a page", live, held, nil, outAnswered},
		{"unknown donor", live, held, fmt.Errorf("fetching: %w", source.ErrNotFound), outAnswered},
		{"throttled", live, held, &source.ThrottledError{Status: 429}, outAnswered},
		{"server error", live, held, errors.New("unexpected status 502 Bad Gateway"), outFailed},
		{"timeout", live, held, fmt.Errorf("fetching: %w", context.DeadlineExceeded), outFailed},
		{"reset", live, held, fmt.Errorf("fetching: %w", syscall.ECONNRESET), outFailed},
		{"task cancelled", cancelled, held, context.Canceled, outNone},
		{"lease lost", live, lost, context.Canceled, outNone},
		{"no browser", live, held, source.ErrUnavailable, outNone},
	}
	for _, c := range cases {
		if got := outcome(c.ctx, c.lease, c.err); got != c.want {
			t.Errorf("%s: outcome %v; want %v", c.name, got, c.want)
		}
	}
}
