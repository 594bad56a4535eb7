// Package storetest is the conformance suite that every implementation of
// persistence.Store passes, so that the SQLite and PostgreSQL stores behave
// alike. A store's tests call Run, and CheckMigratedLimits on a database
// that an older schema left; its benchmarks call BenchAppend.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// Run checks the behaviour of a Store. newStore returns a new, empty store
// for one subtest and arranges for it to be closed when the subtest ends;
// subtests run in parallel. One subtest closes its store itself, so Close
// must accept a second call.
func Run(t *testing.T, newStore func(t *testing.T) persistence.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s persistence.Store)
	}{
		{"CreateWork", testCreateWork},
		{"CreateWorkTwice", testCreateWorkTwice},
		{"Append", testAppend},
		{"AppendConflict", testAppendConflict},
		{"AppendUnknownWork", testAppendUnknownWork},
		{"AppendRace", testAppendRace},
		{"ConcurrentAppends", testConcurrentAppends},
		{"UnknownWork", testUnknownWork},
		{"ListWorks", testListWorks},
		{"UnfinishedWorks", testUnfinishedWorks},
		{"CountWorks", testCountWorks},
		{"Cache", testCache},
		{"Limits", testLimits},
		{"LimitsHistory", testLimitsHistory},
		{"LimitsSameMillisecond", testLimitsSameMillisecond},
		{"LimitsConcurrent", testLimitsConcurrent},
		{"Blobs", testBlobs},
		{"LockBucket", testLockBucket},
		{"LockLostOnClose", testLockLostOnClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// newCreated returns the first event of a work with the given donor ids.
func newCreated(id string, donors ...string) *messages.WorkCreated {
	c := &messages.WorkCreated{
		Idwork:   id,
		Rows:     int64(len(donors)),
		Source:   "test-source",
		Filename: id + ".csv",
	}
	for _, d := range donors {
		c.Entries = append(c.Entries, &messages.Entry{Label: "label-" + d, Id: d})
	}
	return c
}

// completed returns a TaskCompleted event for a donor.
func completed(donor string) *messages.Event {
	return &messages.Event{Kind: &messages.Event_Completed{Completed: &messages.TaskCompleted{
		Id: donor, Attempts: 1, Sha256: "ab12", SourceUrl: "http://127.0.0.1/" + donor,
	}}}
}

// activated returns a WorkActivated event for a member.
func activated(member string) *messages.Event {
	return &messages.Event{Kind: &messages.Event_Activated{Activated: &messages.WorkActivated{Member: member}}}
}

// mustCreate creates a work or ends the test.
func mustCreate(t testing.TB, s persistence.Store, id string, donors ...string) {
	t.Helper()
	if err := s.CreateWork(context.Background(), newCreated(id, donors...)); err != nil {
		t.Fatalf("CreateWork(%s): %v", id, err)
	}
}

// mustAppend appends or ends the test.
func mustAppend(t testing.TB, s persistence.Store, id string, after int64, status string,
	evs ...*messages.Event,
) {
	t.Helper()
	if err := s.Append(context.Background(), id, after, status, evs...); err != nil {
		t.Fatalf("Append(%s, after %d): %v", id, after, err)
	}
}

// mustEvents reads a log or ends the test.
func mustEvents(t testing.TB, s persistence.Store, id string) []*messages.Event {
	t.Helper()
	evs, err := s.Events(context.Background(), id)
	if err != nil {
		t.Fatalf("Events(%s): %v", id, err)
	}
	return evs
}

// mustWork reads a summary or ends the test.
func mustWork(t testing.TB, s persistence.Store, id string) persistence.WorkSummary {
	t.Helper()
	w, err := s.Work(context.Background(), id)
	if err != nil {
		t.Fatalf("Work(%s): %v", id, err)
	}
	return w
}

// workID returns the i-th work id of a test.
func workID(prefix string, i int) string {
	return fmt.Sprintf("%s-%04d", prefix, i)
}

// sinceCreation reports whether at lies between before, rounded down to the
// millisecond that stores keep, and now.
func sinceCreation(at, before time.Time) bool {
	return !at.Before(before.Truncate(time.Millisecond)) && !at.After(time.Now())
}
