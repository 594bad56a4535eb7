package actors

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/source"
)

// missingSource is a source that cannot run on this member.
type missingSource struct{}

func (missingSource) Key() string { return "missing" }

func (missingSource) Fetch(context.Context, string) (source.Result, error) {
	return source.Result{}, fmt.Errorf("%w: no browser", source.ErrUnavailable)
}

func (missingSource) Available() error { return fmt.Errorf("%w: no browser", source.ErrUnavailable) }

// TestRunReportsWaitingForSource checks that a run tells its work once when
// it starts waiting for an unavailable source, whether the source says so
// before a permit or in a fetch, and that setWaiting reports the end of the
// wait once. The call in attempt that ends the wait, before a permit is
// asked for, is not covered here: it needs a token bucket.
func TestRunReportsWaitingForSource(t *testing.T) {
	var reports []bool
	r := &run{
		deps:   &Deps{Source: missingSource{}},
		start:  &messages.StartTask{Idwork: "w1", Id: "DO1"},
		hard:   context.Background(),
		report: func(waiting bool) { reports = append(reports, waiting) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the waits return at once

	for attempt := int32(1); attempt <= 2; attempt++ {
		if res, err := r.attempt(ctx, attempt); res != nil || err == nil {
			t.Fatalf("attempt %d: result %v, error %v; want an error to retry on", attempt, res, err)
		}
	}
	if _, err := r.settle(ctx, source.Result{}, missingSource{}.Available(), 3); err == nil {
		t.Fatal("an unavailable fetch settled the donor")
	}
	r.setWaiting(false)
	if want := []bool{true, false}; !slices.Equal(reports, want) {
		t.Errorf("reports %v, want %v", reports, want)
	}
}

// TestWorkCountsWaitingTasksPending checks that the work counts a task that
// waits for its member's source as pending, and again as running once it
// goes on; reports of another activation or of a task not dispatched are
// ignored.
func TestWorkCountsWaitingTasksPending(t *testing.T) {
	w := &work{epoch: 3, state: newWorkState(), dispatched: map[string]dispatch{}}
	w.state.apply(&messages.Event{Kind: &messages.Event_Created{Created: &messages.WorkCreated{
		Entries: []*messages.Entry{{Id: "DO1"}, {Id: "DO2"}, {Id: "DO3"}},
	}}})
	for _, id := range []string{"DO1", "DO2"} {
		w.dispatched[id] = dispatch{addr: "member", at: time.Now()}
	}
	check := func(step, status string, pending, running int64) {
		t.Helper()
		c := w.state.counts(w.running())
		if got := w.currentStatus(); got != status || c.Pending != pending || c.Running != running {
			t.Errorf("%s: status %s, %d pending, %d running; want %s, %d, %d", step, got, c.Pending, c.Running, status, pending, running)
		}
	}
	check("dispatched", persistence.StatusRunning, 1, 2)

	w.taskWaiting(&messages.TaskWaiting{Id: "DO1", Epoch: 3, Waiting: true})
	w.taskWaiting(&messages.TaskWaiting{Id: "DO2", Epoch: 2, Waiting: true})
	w.taskWaiting(&messages.TaskWaiting{Id: "DO3", Epoch: 3, Waiting: true})
	check("one waiting", persistence.StatusRunning, 2, 1)

	w.taskWaiting(&messages.TaskWaiting{Id: "DO2", Epoch: 3, Waiting: true})
	check("all waiting", persistence.StatusPending, 3, 0)

	w.taskWaiting(&messages.TaskWaiting{Id: "DO2", Epoch: 3, Waiting: false})
	check("one going on", persistence.StatusRunning, 2, 1)
}
