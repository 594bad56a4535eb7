package actors

import (
	"time"

	"github.com/signalscrape/signalscrape/messages"
)

// breaker is the token bucket's circuit breaker. After threshold failed
// requests in a row (5xx, timeouts, broken connections) it opens: no permit
// starts before the cool-down ends. Then it lets one request through at a
// time, a probe: an answer closes it, a failure opens it for another
// cool-down. Only the bucket's actor uses it.
type breaker struct {
	threshold int
	cooldown  time.Duration

	failures int
	// tripped is true from the opening until an answer closes it.
	tripped bool
	// until is when the current cool-down ends.
	until time.Time
}

// record counts the outcome of one request and reports whether the breaker
// opened or closed because of it.
func (b *breaker) record(outcome messages.FetchOutcome, now time.Time) (opened, closed bool) {
	switch outcome {
	case messages.FetchOutcome_FETCH_OUTCOME_ANSWERED:
		b.failures = 0
		closed = b.tripped
		b.tripped = false
	case messages.FetchOutcome_FETCH_OUTCOME_FAILED:
		b.failures++
		if b.threshold > 0 && (b.tripped || b.failures >= b.threshold) {
			opened = !b.tripped
			b.tripped = true
			b.until = now.Add(b.cooldown)
		}
	}
	return opened, closed
}

// notBefore is the earliest start of the next permit: the end of the
// cool-down while the breaker is open, else the zero time.
func (b *breaker) notBefore() time.Time {
	if !b.tripped {
		return time.Time{}
	}
	return b.until
}

// capacity is how many requests may be in flight: one probe while the
// breaker is tripped, else max.
func (b *breaker) capacity(max int) int {
	if b.tripped {
		return min(max, 1)
	}
	return max
}
