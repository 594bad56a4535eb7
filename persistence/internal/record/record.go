// Package record turns the events of a work into the rows that both stores
// keep, and rows back into events.
package record

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/signalscrape/signalscrape/messages"
)

// Event is one event as a row of the events table holds it.
type Event struct {
	// Kind names the event's oneof case, for people reading the table.
	Kind string
	// Data is the whole event marshalled as protobuf.
	Data []byte
	// AtUnixMs is when the event happened.
	AtUnixMs int64
}

// Encode turns ev into a row. The row's time is ev.AtUnixMs when set, else
// now.
func Encode(ev *messages.Event, now time.Time) (Event, error) {
	if ev == nil {
		return Event{}, errors.New("encoding event: nil event")
	}
	m := ev.ProtoReflect()
	field := m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))
	if field == nil {
		return Event{}, errors.New("encoding event: no kind set")
	}
	data, err := proto.Marshal(ev)
	if err != nil {
		return Event{}, fmt.Errorf("encoding %s event: %w", field.Name(), err)
	}
	at := ev.GetAtUnixMs()
	if at <= 0 {
		at = now.UnixMilli()
	}
	return Event{Kind: string(field.Name()), Data: data, AtUnixMs: at}, nil
}

// EncodeAll turns events into rows, all stamped with now unless they carry
// their own time.
func EncodeAll(events []*messages.Event, now time.Time) ([]Event, error) {
	rows := make([]Event, len(events))
	for i, ev := range events {
		r, err := Encode(ev, now)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// Decode turns a row back into an event whose Seq and AtUnixMs come from the
// row.
func Decode(data []byte, seq, atUnixMs int64) (*messages.Event, error) {
	ev := &messages.Event{}
	if err := proto.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decoding event %d: %w", seq, err)
	}
	ev.Seq = seq
	ev.AtUnixMs = atUnixMs
	return ev, nil
}

// Created wraps the first event of a work.
func Created(created *messages.WorkCreated) *messages.Event {
	return &messages.Event{Kind: &messages.Event_Created{Created: created}}
}

// Total counts the distinct donor ids of a new work.
func Total(created *messages.WorkCreated) int64 {
	seen := make(map[string]struct{}, len(created.GetEntries()))
	for _, e := range created.GetEntries() {
		seen[e.GetId()] = struct{}{}
	}
	return int64(len(seen))
}

// Millis drops what is finer than a millisecond from t, the precision that
// every store keeps, and gives it in UTC.
func Millis(t time.Time) time.Time {
	return t.Truncate(time.Millisecond).UTC()
}
