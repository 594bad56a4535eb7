package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// TestManifestLimitsChanges stores limits before a work, at its creation,
// while it runs and after it finished: the manifest of the finished work
// shows those set at its creation and the change while it ran, not the one
// after; the unfinished work's shows every change since its creation.
func TestManifestLimitsChanges(t *testing.T) {
	stored := []persistence.Limits{
		{MinInterval: 2 * time.Second, MaxInterval: 5 * time.Second, MaxConcurrency: 1},
		{MinInterval: 1500 * time.Millisecond, MaxInterval: 4 * time.Second, MaxConcurrency: 2},
		{MinInterval: 500 * time.Millisecond, MaxInterval: time.Second, MaxConcurrency: 4},
		{MaxConcurrency: 8},
	}
	fb := eventsBackend()
	fb.limits = stored[3]
	fb.store.limitsChanges = []persistence.LimitsChange{
		{At: createdAt.Add(-time.Hour), Limits: stored[0]},
		{At: createdAt, Limits: stored[1]},
		{At: fetchedAt, Limits: stored[2]},
		{At: finishedAt.Add(time.Minute), Limits: stored[3]},
	}
	h := newHandler(fb, Config{})
	during := limitsChangeJSON{At: "2025-03-01T10:00:30Z", limitsJSON: limitsJSON{500, 1000, 4}}
	after := limitsChangeJSON{At: "2025-03-01T10:02:30Z", limitsJSON: limitsJSON{0, 0, 8}}

	done := decode[manifestJSON](t, get(h, "/download/"+doneID+"?format=manifest"), http.StatusOK)
	if done.Limits != limitsBody(stored[1]) || !slices.Equal(done.LimitsChanges, []limitsChangeJSON{during}) {
		t.Errorf("finished work: limits %+v, changes %+v; want %+v and only %+v",
			done.Limits, done.LimitsChanges, limitsBody(stored[1]), during)
	}
	running := decode[manifestJSON](t, get(h, "/download/"+runningID+"?format=manifest&partial=1"), http.StatusOK)
	if running.Limits != limitsBody(stored[1]) || !slices.Equal(running.LimitsChanges, []limitsChangeJSON{during, after}) {
		t.Errorf("running work: limits %+v, changes %+v; want %+v, then %+v and %+v",
			running.Limits, running.LimitsChanges, limitsBody(stored[1]), during, after)
	}
}

// TestManifestWithoutStoredLimits gives the node's initial limits, and an
// empty list of changes, when no limits were stored before the work ended,
// though some were stored after.
func TestManifestWithoutStoredLimits(t *testing.T) {
	fb := eventsBackend()
	later := persistence.Limits{MaxConcurrency: 8}
	fb.limits = later
	fb.store.limitsChanges = []persistence.LimitsChange{{At: finishedAt.Add(time.Minute), Limits: later}}
	rec := get(newHandler(fb, Config{}), "/download/"+doneID+"?format=manifest")
	got := decode[map[string]json.RawMessage](t, rec, http.StatusOK)
	var limits limitsJSON
	if err := json.Unmarshal(got["limits"], &limits); err != nil || limits != limitsBody(fb.InitialLimits()) {
		t.Errorf("limits %s, want the node's initial %+v", got["limits"], limitsBody(fb.InitialLimits()))
	}
	if string(got["limits_changes"]) != "[]" {
		t.Errorf("limits_changes %s, want []", got["limits_changes"])
	}
}

// TestCancelledWorkEnds ends a cancelled work's limits history at its
// cancel, though it has no finish.
func TestCancelledWorkEnds(t *testing.T) {
	cancelledAt := finishedAt.Add(time.Minute)
	events := append(workEventsFor(false), &messages.Event{Seq: 8, AtUnixMs: cancelledAt.UnixMilli(),
		Kind: &messages.Event_Cancelled{Cancelled: &messages.WorkCancelled{}}})
	l, err := foldEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	if l.createdAt != createdAt.UnixMilli() || l.endedAt != cancelledAt.UnixMilli() || l.finishedAt != 0 {
		t.Errorf("created %d, ended %d, finished %d; want %d, %d, 0",
			l.createdAt, l.endedAt, l.finishedAt, createdAt.UnixMilli(), cancelledAt.UnixMilli())
	}
}
