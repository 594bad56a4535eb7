package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

// historyLimits are the limits that testLimitsHistory sets, in order.
var historyLimits = []persistence.Limits{
	{MinInterval: time.Second, MaxInterval: 3 * time.Second, MaxConcurrency: 2},
	{MinInterval: 250 * time.Microsecond, MaxInterval: 1500 * time.Millisecond, MaxConcurrency: 7},
	{MinInterval: 0, MaxInterval: 0, MaxConcurrency: 64},
}

func testLimits(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	if _, err := s.Limits(ctx); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("Limits before any set = %v, want ErrNotFound", err)
	}
	for _, want := range historyLimits {
		if err := s.SetLimits(ctx, want); err != nil {
			t.Fatalf("SetLimits: %v", err)
		}
		got, err := s.Limits(ctx)
		if err != nil || got != want {
			t.Errorf("Limits = %+v, %v; want %+v", got, err, want)
		}
	}
}

func testLimitsHistory(t *testing.T, s persistence.Store) {
	if got := mustHistory(t, s, time.Time{}, time.Now().Add(time.Hour)); len(got) != 0 {
		t.Fatalf("LimitsHistory before any set = %+v, want none", got)
	}
	before := time.Now()
	for _, l := range historyLimits {
		// Stores keep milliseconds: give every change its own.
		time.Sleep(2 * time.Millisecond)
		mustSetLimits(t, s, l)
	}
	all := mustHistory(t, s, before.Add(-time.Hour), time.Now())
	if len(all) != len(historyLimits) {
		t.Fatalf("LimitsHistory of everything = %+v, want %d changes", all, len(historyLimits))
	}
	for i, c := range all {
		if c.Limits != historyLimits[i] || !sinceCreation(c.At, before) || (i > 0 && !c.At.After(all[i-1].At)) {
			t.Errorf("change %d = %+v, want %+v set after %v and after the one before", i, c, historyLimits[i], before)
		}
	}
	checkHistoryRanges(t, s, all)
}

// checkHistoryRanges asks for the history between the times of the changes
// in all, and around them.
func checkHistoryRanges(t *testing.T, s persistence.Store, all []persistence.LimitsChange) {
	t.Helper()
	ms := time.Millisecond
	first, second, last := all[0].At, all[1].At, all[2].At
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"before the first change", first.Add(-2 * ms), first.Add(-ms), nil},
		{"up to the first change", first.Add(-ms), first, []int{0}},
		{"at the first change", first, first, []int{0}},
		{"in force and one change", second.Add(-ms), second, []int{0, 1}},
		{"in force only", second, last.Add(-ms), []int{1}},
		{"in force and every later change", first, last.Add(time.Hour), []int{0, 1, 2}},
		{"long after the last change", last.Add(time.Hour), last.Add(2 * time.Hour), []int{2}},
	} {
		got := mustHistory(t, s, tc.from, tc.to)
		want := make([]persistence.LimitsChange, len(tc.want))
		for i, j := range tc.want {
			want[i] = all[j]
		}
		if !slices.EqualFunc(got, want, sameChange) {
			t.Errorf("%s: LimitsHistory = %+v, want %+v", tc.name, got, want)
		}
	}
}

// testLimitsSameMillisecond sets limits twice without waiting: whether or
// not both changes fall on one millisecond, the second is in force.
func testLimitsSameMillisecond(t *testing.T, s persistence.Store) {
	for _, l := range historyLimits[:2] {
		mustSetLimits(t, s, l)
	}
	now := mustHistory(t, s, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if len(now) != 1 || now[0].Limits != historyLimits[1] {
		t.Errorf("LimitsHistory after two quick sets = %+v, want only %+v", now, historyLimits[1])
	}
}

// testLimitsConcurrent sets limits from several goroutines at once: the
// newest change in the history is the one in force, and every change is in
// it.
func testLimitsConcurrent(t *testing.T, s persistence.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.SetLimits(context.Background(), persistence.Limits{MaxConcurrency: i + 1})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("SetLimits: %v", err)
		}
	}

	inForce, err := s.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := mustHistory(t, s, time.Time{}, time.Now().Add(time.Minute))
	if len(h) != n || h[len(h)-1].Limits != inForce {
		t.Errorf("history of %d changes ends with %+v; want %d ending with the limits in force %+v", len(h), h[len(h)-1].Limits, n, inForce)
	}
}

// sameChange reports whether a and b are the same change.
func sameChange(a, b persistence.LimitsChange) bool {
	return a.Limits == b.Limits && a.At.Equal(b.At)
}

// mustSetLimits sets the limits or ends the test.
func mustSetLimits(t testing.TB, s persistence.Store, l persistence.Limits) {
	t.Helper()
	if err := s.SetLimits(context.Background(), l); err != nil {
		t.Fatalf("SetLimits: %v", err)
	}
}

// mustHistory reads the limits history or ends the test.
func mustHistory(t testing.TB, s persistence.Store, from, to time.Time) []persistence.LimitsChange {
	t.Helper()
	h, err := s.LimitsHistory(context.Background(), from, to)
	if err != nil {
		t.Fatalf("LimitsHistory(%v, %v): %v", from, to, err)
	}
	return h
}

// CheckMigratedLimits checks a store opened on a database that held the
// limits want, stored at at, before the migration that records changes:
// they are the first change, at at, and later changes follow them.
func CheckMigratedLimits(t *testing.T, s persistence.Store, at time.Time, want persistence.Limits) {
	t.Helper()
	migrated := persistence.LimitsChange{At: at, Limits: want}
	got := mustHistory(t, s, at, time.Now())
	if !slices.EqualFunc(got, []persistence.LimitsChange{migrated}, sameChange) {
		t.Fatalf("LimitsHistory after the migration = %+v, want %+v", got, migrated)
	}
	if l, err := s.Limits(context.Background()); err != nil || l != want {
		t.Errorf("Limits after the migration = %+v, %v; want %+v", l, err, want)
	}
	mustSetLimits(t, s, historyLimits[1])
	got = mustHistory(t, s, at, time.Now())
	if len(got) != 2 || !sameChange(got[0], migrated) || got[1].Limits != historyLimits[1] {
		t.Errorf("LimitsHistory after a new change = %+v, want %+v and then %+v", got, migrated, historyLimits[1])
	}
}
