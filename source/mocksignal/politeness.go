package mocksignal

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is what CheckPoliteness found among the /sample/ requests of a log.
type Report struct {
	// Requests is the number of /sample/ requests.
	Requests int
	// MinGap is the smallest time between two consecutive starts; zero
	// when there are fewer than two requests.
	MinGap time.Duration
	// MaxInFlight is the most requests in flight at one instant.
	MaxInFlight int
	// GapViolations counts consecutive starts closer than the minimum gap.
	GapViolations int
	// ConcurrencyViolations counts requests that started while the
	// maximum number of requests was already in flight.
	ConcurrencyViolations int
}

// Violations is the number of both kinds of violations.
func (r Report) Violations() int { return r.GapViolations + r.ConcurrencyViolations }

// String summarises r for a person.
func (r Report) String() string {
	return fmt.Sprintf("%d requests, min gap %s, max in flight %d, %d gap and %d concurrency violations",
		r.Requests, r.MinGap, r.MaxInFlight, r.GapViolations, r.ConcurrencyViolations)
}

// CheckPoliteness measures how politely a client asked for profiles: the
// gaps between the starts of /sample/ requests against minGap, and the
// requests in flight at once against maxConcurrency. A request that ends at
// the instant another starts does not overlap it. A non-positive minGap or
// maxConcurrency turns its check off, though the measure is still reported.
// Only an entry that ends before it starts is an error.
func CheckPoliteness(entries []LogEntry, minGap time.Duration, maxConcurrency int) (Report, error) {
	reqs, err := sampleRequests(entries)
	if err != nil {
		return Report{}, err
	}
	r := Report{Requests: len(reqs)}
	checkGaps(&r, reqs, minGap)
	checkConcurrency(&r, reqs, maxConcurrency)
	return r, nil
}

// sampleRequests keeps the /sample/ requests, sorted by start.
func sampleRequests(entries []LogEntry) ([]LogEntry, error) {
	var reqs []LogEntry
	for i, e := range entries {
		if !strings.HasPrefix(e.Path, "/sample/") {
			continue
		}
		if e.EndUnixNano < e.StartUnixNano {
			return nil, fmt.Errorf("checking politeness: entry %d ends before it starts", i)
		}
		reqs = append(reqs, e)
	}
	slices.SortStableFunc(reqs, func(a, b LogEntry) int { return cmp.Compare(a.StartUnixNano, b.StartUnixNano) })
	return reqs, nil
}

func checkGaps(r *Report, reqs []LogEntry, minGap time.Duration) {
	for i := 1; i < len(reqs); i++ {
		gap := time.Duration(reqs[i].StartUnixNano - reqs[i-1].StartUnixNano)
		if i == 1 || gap < r.MinGap {
			r.MinGap = gap
		}
		if minGap > 0 && gap < minGap {
			r.GapViolations++
		}
	}
}

// checkConcurrency sweeps over the starts and ends in time order; at equal
// times ends come first.
func checkConcurrency(r *Report, reqs []LogEntry, maxConcurrency int) {
	type event struct {
		at    int64
		delta int
	}
	events := make([]event, 0, 2*len(reqs))
	for _, e := range reqs {
		events = append(events, event{e.StartUnixNano, 1}, event{e.EndUnixNano, -1})
	}
	slices.SortFunc(events, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta))
	})
	inFlight := 0
	for _, ev := range events {
		inFlight += ev.delta
		if ev.delta > 0 && maxConcurrency > 0 && inFlight > maxConcurrency {
			r.ConcurrencyViolations++
		}
		r.MaxInFlight = max(r.MaxInFlight, inFlight)
	}
}
