package mocksignal

import (
	"testing"
	"time"
)

// entry is a /sample/ request from start to end, in milliseconds.
func entry(startMS, endMS int64) LogEntry {
	ms := int64(time.Millisecond)
	return LogEntry{Path: "/sample/DO1.csv", StartUnixNano: startMS * ms, EndUnixNano: endMS * ms}
}

func TestCheckPolitenessClean(t *testing.T) {
	entries := []LogEntry{
		entry(0, 80),
		entry(100, 180),
		entry(180, 250), // starts the instant the previous one ends
		{Path: "/", StartUnixNano: 1, EndUnixNano: 1_000_000_000},
		entry(400, 420),
	}
	r, err := CheckPoliteness(entries, 80*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Requests: 4, MinGap: 80 * time.Millisecond, MaxInFlight: 1}
	if r != want || r.Violations() != 0 {
		t.Fatalf("report %+v, want %+v", r, want)
	}
}

func TestCheckPolitenessFindsViolations(t *testing.T) {
	entries := []LogEntry{
		entry(300, 500), // out of order in the log
		entry(0, 400),
		entry(100, 350),
		entry(200, 210),
		entry(900, 950),
	}
	r, err := CheckPoliteness(entries, 150*time.Millisecond, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Requests: 5, MinGap: 100 * time.Millisecond, MaxInFlight: 3, GapViolations: 3, ConcurrencyViolations: 2}
	if r != want {
		t.Fatalf("report %+v, want %+v", r, want)
	}
	if r.Violations() != 5 {
		t.Fatalf("Violations() = %d", r.Violations())
	}
}

func TestCheckPolitenessChecksOff(t *testing.T) {
	r, err := CheckPoliteness([]LogEntry{entry(0, 100), entry(10, 100)}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Violations() != 0 || r.MaxInFlight != 2 || r.MinGap != 10*time.Millisecond {
		t.Fatalf("report %+v", r)
	}
}

func TestCheckPolitenessFewRequests(t *testing.T) {
	r, err := CheckPoliteness([]LogEntry{entry(5, 6)}, time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r != (Report{Requests: 1, MaxInFlight: 1}) {
		t.Fatalf("report %+v", r)
	}
	if r, err := CheckPoliteness(nil, time.Second, 1); err != nil || r != (Report{}) {
		t.Fatalf("empty log: %+v, %v", r, err)
	}
}

func TestCheckPolitenessRejectsBackwardsEntry(t *testing.T) {
	if _, err := CheckPoliteness([]LogEntry{entry(0, 1), entry(10, 5)}, 0, 0); err == nil {
		t.Fatal("accepted an entry that ends before it starts")
	}
}
