package actors

import (
	"errors"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/source"
)

// Outcomes of one upstream request, as the actors report them to Metrics.
const (
	FetchOK          = "ok"
	FetchRejected    = "rejected"
	FetchNotFound    = "not_found"
	FetchThrottled   = "throttled"
	FetchUnavailable = "unavailable"
	FetchError       = "error"
)

// Metrics receives what the actors of one member measure. Deps.Metrics may
// be nil, and then nothing is measured. Implementations must be safe for
// concurrent use and must not block: tasks call them from their goroutines
// and works from inside their actors.
type Metrics interface {
	// Fetched records one upstream request: its outcome (one of the Fetch
	// constants) and how long the source took.
	Fetched(outcome string, took time.Duration)
	// CacheHit records a donor settled from the profile cache.
	CacheHit()
	// PermitGranted records a permit received by a task of this member.
	PermitGranted()
	// TaskSettled records a task's end: "completed" or "failed".
	TaskSettled(status string)
	// WorkTasks sets the task counts of an unfinished work active on this
	// member; nil counts forget the work.
	WorkTasks(workID string, counts *messages.Counts)
}

// measure returns d.Metrics, or a sink that drops everything when it is nil.
func (d *Deps) measure() Metrics {
	if d.Metrics == nil {
		return noMetrics{}
	}
	return d.Metrics
}

type noMetrics struct{}

func (noMetrics) Fetched(string, time.Duration)      {}
func (noMetrics) CacheHit()                          {}
func (noMetrics) PermitGranted()                     {}
func (noMetrics) TaskSettled(string)                 {}
func (noMetrics) WorkTasks(string, *messages.Counts) {}

// fetchOutcome names what one request came to: fetchErr is the source's
// answer, settled whether the body settled the donor.
func fetchOutcome(fetchErr error, settled bool) string {
	var throttled *source.ThrottledError
	switch {
	case errors.As(fetchErr, &throttled):
		return FetchThrottled
	case errors.Is(fetchErr, source.ErrUnavailable):
		return FetchUnavailable
	case errors.Is(fetchErr, source.ErrNotFound):
		return FetchNotFound
	case fetchErr != nil:
		return FetchError
	case !settled:
		return FetchRejected
	}
	return FetchOK
}
