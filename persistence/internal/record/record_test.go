package record

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/signalscrape/signalscrape/messages"
)

func TestEncodeDecode(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	failed := &messages.TaskFailed{Id: "d1", Error: "gone"}
	ev := &messages.Event{Seq: 99, Kind: &messages.Event_Failed{Failed: failed}}
	row, err := Encode(ev, now)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if row.Kind != "failed" || row.AtUnixMs != now.UnixMilli() {
		t.Errorf("row = kind %q at %d, want failed at %d", row.Kind, row.AtUnixMs, now.UnixMilli())
	}
	got, err := Decode(row.Data, 3, 42)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got.GetSeq() != 3 || got.GetAtUnixMs() != 42 || !proto.Equal(got.GetFailed(), ev.GetFailed()) {
		t.Errorf("Decode = %v, want seq 3, at 42 and the failure", got)
	}
}

func TestEncodeKeepsEventTime(t *testing.T) {
	ev := &messages.Event{AtUnixMs: 5, Kind: &messages.Event_Cancelled{Cancelled: &messages.WorkCancelled{}}}
	row, err := Encode(ev, time.Now())
	if err != nil || row.AtUnixMs != 5 || row.Kind != "cancelled" {
		t.Errorf("Encode = %+v, %v; want kind cancelled at 5", row, err)
	}
}

func TestEncodeRefusesEventWithoutKind(t *testing.T) {
	if _, err := Encode(&messages.Event{}, time.Now()); err == nil {
		t.Error("Encode of an event without kind gave no error")
	}
	if _, err := Encode(nil, time.Now()); err == nil {
		t.Error("Encode of nil gave no error")
	}
}

func TestTotalCountsDistinctIDs(t *testing.T) {
	c := &messages.WorkCreated{Entries: []*messages.Entry{{Id: "a"}, {Id: "b"}, {Id: "a"}}}
	if got := Total(c); got != 2 {
		t.Errorf("Total = %d, want 2", got)
	}
}
