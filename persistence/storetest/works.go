package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

func testCreateWork(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	before := time.Now()
	created := newCreated("w1", "d1", "d2", "d1", "d3")
	if err := s.CreateWork(ctx, created); err != nil {
		t.Fatalf("CreateWork: %v", err)
	}

	w := mustWork(t, s, "w1")
	if w.ID != "w1" || w.Status != persistence.StatusPending || w.Total != 3 || w.Filename != "w1.csv" {
		t.Errorf("Work = %+v, want id w1, pending, total 3 (distinct ids), filename w1.csv", w)
	}
	if !sinceCreation(w.CreatedAt, before) || !w.UpdatedAt.Equal(w.CreatedAt) {
		t.Errorf("Work times created %v updated %v, want both the creation time (after %v)",
			w.CreatedAt, w.UpdatedAt, before)
	}

	evs := mustEvents(t, s, "w1")
	if len(evs) != 1 {
		t.Fatalf("Events = %d events, want 1", len(evs))
	}
	if evs[0].GetSeq() != 1 || !proto.Equal(evs[0].GetCreated(), created) {
		t.Errorf("first event = %v, want seq 1 holding %v", evs[0], created)
	}
	if at := time.UnixMilli(evs[0].GetAtUnixMs()); !sinceCreation(at, before) {
		t.Errorf("first event at %v, want the creation time (after %v)", at, before)
	}
}

func testCreateWorkTwice(t *testing.T, s persistence.Store) {
	mustCreate(t, s, "w1", "d1")
	err := s.CreateWork(context.Background(), newCreated("w1", "d9", "d8"))
	if !errors.Is(err, persistence.ErrConflict) {
		t.Fatalf("second CreateWork = %v, want ErrConflict", err)
	}
	if w := mustWork(t, s, "w1"); w.Total != 1 {
		t.Errorf("Work total = %d after the refused create, want 1", w.Total)
	}
	if evs := mustEvents(t, s, "w1"); len(evs) != 1 {
		t.Errorf("Events = %d events after the refused create, want 1", len(evs))
	}
}

func testAppend(t *testing.T, s persistence.Store) {
	mustCreate(t, s, "w1", "d1", "d2")
	mustAppend(t, s, "w1", 1, persistence.StatusRunning, activated("m1"), completed("d1"))
	mustAppend(t, s, "w1", 3, "", completed("d2"))

	if w := mustWork(t, s, "w1"); w.Status != persistence.StatusRunning || w.UpdatedAt.Before(w.CreatedAt) {
		t.Errorf("Work = %+v, want running (an empty status keeps the last one), updated after created", w)
	}
	evs := mustEvents(t, s, "w1")
	var seqs []int64
	for _, ev := range evs {
		seqs = append(seqs, ev.GetSeq())
	}
	if !slices.Equal(seqs, []int64{1, 2, 3, 4}) {
		t.Fatalf("sequence numbers = %v, want 1..4", seqs)
	}
	if evs[1].GetActivated().GetMember() != "m1" {
		t.Errorf("event 2 = %v, want activated by m1", evs[1])
	}
	if !proto.Equal(evs[3].GetCompleted(), completed("d2").GetCompleted()) {
		t.Errorf("event 4 = %v, want d2 completed", evs[3])
	}

	mustAppend(t, s, "w1", 4, persistence.StatusCompleted)
	if w := mustWork(t, s, "w1"); w.Status != persistence.StatusCompleted {
		t.Errorf("status after an append without events = %q, want completed", w.Status)
	}
}

func testAppendConflict(t *testing.T, s persistence.Store) {
	mustCreate(t, s, "w1", "d1")
	mustAppend(t, s, "w1", 1, persistence.StatusRunning, activated("m1"))

	for _, after := range []int64{0, 1, 3} {
		err := s.Append(context.Background(), "w1", after, persistence.StatusFailed, completed("d1"))
		if !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("Append after %d = %v, want ErrConflict", after, err)
		}
	}
	if evs := mustEvents(t, s, "w1"); len(evs) != 2 {
		t.Errorf("Events = %d events after refused appends, want 2", len(evs))
	}
	if w := mustWork(t, s, "w1"); w.Status != persistence.StatusRunning {
		t.Errorf("status = %q after refused appends, want running", w.Status)
	}
}

func testAppendUnknownWork(t *testing.T, s persistence.Store) {
	err := s.Append(context.Background(), "nope", 0, "", completed("d1"))
	if !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("Append to an unknown work = %v, want ErrNotFound", err)
	}
}

// testAppendRace has many appenders claim the same sequence number: exactly
// one may win.
func testAppendRace(t *testing.T, s persistence.Store) {
	mustCreate(t, s, "w1", "d1")
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			errs[i] = s.Append(context.Background(), "w1", 1, persistence.StatusRunning, activated(workID("m", i)))
		})
	}
	wg.Wait()

	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, persistence.ErrConflict):
			t.Errorf("racer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d appends won, want exactly 1", wins)
	}
	if evs := mustEvents(t, s, "w1"); len(evs) != 2 {
		t.Errorf("Events = %d events, want 2", len(evs))
	}
}

// testConcurrentAppends runs writers on their own works and on a shared one,
// where they retry after conflicts; no event may be lost.
func testConcurrentAppends(t *testing.T, s persistence.Store) {
	const writers, appends = 4, 25
	mustCreate(t, s, "shared", "d1")
	for i := range writers {
		mustCreate(t, s, workID("own", i), "d1")
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { appendOwn(t, s, workID("own", i), appends) })
		wg.Go(func() { appendShared(t, s, "shared", appends) })
	}
	wg.Wait()

	for i := range writers {
		if evs := mustEvents(t, s, workID("own", i)); len(evs) != 1+appends {
			t.Errorf("work %d has %d events, want %d", i, len(evs), 1+appends)
		}
	}
	if evs := mustEvents(t, s, "shared"); len(evs) != 1+writers*appends {
		t.Errorf("shared work has %d events, want %d", len(evs), 1+writers*appends)
	}
}

// appendOwn appends n events to a work that no one else writes.
func appendOwn(t *testing.T, s persistence.Store, id string, n int) {
	for seq := int64(1); seq <= int64(n); seq++ {
		if err := s.Append(context.Background(), id, seq, "", completed("d1")); err != nil {
			t.Errorf("Append(%s, after %d): %v", id, seq, err)
			return
		}
	}
}

// appendShared appends n events to a contended work, rereading its log after
// each conflict.
func appendShared(t *testing.T, s persistence.Store, id string, n int) {
	for done := 0; done < n; {
		evs, err := s.Events(context.Background(), id)
		if err != nil {
			t.Errorf("Events(%s): %v", id, err)
			return
		}
		err = s.Append(context.Background(), id, int64(len(evs)), "", completed("d1"))
		switch {
		case err == nil:
			done++
		case !errors.Is(err, persistence.ErrConflict):
			t.Errorf("Append(%s): %v", id, err)
			return
		}
	}
}

func testUnknownWork(t *testing.T, s persistence.Store) {
	evs, err := s.Events(context.Background(), "nope")
	if err != nil || len(evs) != 0 {
		t.Errorf("Events of an unknown work = %v, %v; want none and no error", evs, err)
	}
	if _, err := s.Work(context.Background(), "nope"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("Work of an unknown work = %v, want ErrNotFound", err)
	}
}

func testListWorks(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	if got, err := s.ListWorks(ctx, 10, 0); err != nil || len(got) != 0 {
		t.Fatalf("ListWorks of an empty store = %v, %v; want none", got, err)
	}
	const n = 5
	for i := range n {
		mustCreate(t, s, workID("w", i), "d1")
	}

	cases := []struct {
		limit, offset int
		want          []int
	}{
		{10, 0, []int{4, 3, 2, 1, 0}},
		{2, 0, []int{4, 3}},
		{2, 2, []int{2, 1}},
		{2, 4, []int{0}},
		{2, 5, nil},
		{0, 1, []int{3, 2, 1, 0}},
	}
	for _, c := range cases {
		got, err := s.ListWorks(ctx, c.limit, c.offset)
		if err != nil {
			t.Fatalf("ListWorks(%d, %d): %v", c.limit, c.offset, err)
		}
		var want, ids []string
		for _, i := range c.want {
			want = append(want, workID("w", i))
		}
		for _, w := range got {
			ids = append(ids, w.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ListWorks(%d, %d) = %v, want %v (newest first)", c.limit, c.offset, ids, want)
		}
	}
}

func testUnfinishedWorks(t *testing.T, s persistence.Store) {
	statuses := []string{
		persistence.StatusPending, persistence.StatusCompleted, persistence.StatusRunning,
		persistence.StatusCompletedWithErrors, persistence.StatusFailed, persistence.StatusCancelled,
	}
	var want []string
	for i, status := range statuses {
		id := workID("w", i)
		mustCreate(t, s, id, "d1")
		mustAppend(t, s, id, 1, status, &messages.Event{Kind: &messages.Event_Finished{
			Finished: &messages.WorkFinished{Status: status},
		}})
		if !persistence.Finished(status) {
			want = append(want, id)
		}
	}

	got, err := s.UnfinishedWorks(context.Background())
	if err != nil {
		t.Fatalf("UnfinishedWorks: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("UnfinishedWorks = %v, want %v (oldest first)", got, want)
	}
}

func testCountWorks(t *testing.T, s persistence.Store) {
	counter, ok := s.(persistence.WorkCounter)
	if !ok {
		t.Fatalf("%T does not implement persistence.WorkCounter", s)
	}
	statuses := []string{persistence.StatusRunning, persistence.StatusCompleted, persistence.StatusRunning}
	for i, status := range statuses {
		id := workID("c", i)
		mustCreate(t, s, id, "d1")
		mustAppend(t, s, id, 1, status, activated("m1"))
	}
	mustCreate(t, s, workID("c", len(statuses)), "d1")

	got, err := counter.CountWorks(context.Background())
	if err != nil {
		t.Fatalf("CountWorks: %v", err)
	}
	want := map[string]int64{persistence.StatusPending: 1, persistence.StatusRunning: 2, persistence.StatusCompleted: 1}
	if !maps.Equal(got, want) {
		t.Errorf("CountWorks = %v, want %v", got, want)
	}
}
