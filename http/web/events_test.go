package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/api"
)

// sseEvent is one server-sent event, or a comment when comment is set.
type sseEvent struct {
	name, data, comment string
}

// readEvents parses a stream of server-sent events until it ends or ctx
// does.
func readEvents(ctx context.Context, r io.Reader) <-chan sseEvent {
	out := make(chan sseEvent)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev == (sseEvent{}) {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			}
		}
	}()
	return out
}

// streamServer serves the web handler with fast timings and reports on
// done each time a request's handler has returned.
func streamServer(t *testing.T, b *fakeBackend, heartbeat time.Duration) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	s := newServer(Config{Backend: b})
	s.poll, s.heartbeat = 5*time.Millisecond, heartbeat
	h := s.routes()
	done := make(chan struct{}, 16)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	t.Cleanup(ts.Close)
	return ts, done
}

func openEvents(t *testing.T, ctx context.Context, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("opening events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events answered %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("events Content-Type %q", ct)
	}
	return resp
}

func decodeStatus(t *testing.T, data string) api.StatusJSON {
	t.Helper()
	var st api.StatusJSON
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		t.Fatalf("decoding status event %q: %v", data, err)
	}
	return st
}

func TestEventsStreamUntilTheWorkFinishes(t *testing.T) {
	b := newFakeBackend(time.Hour)
	work := b.addWork(3, 20*time.Millisecond)
	ts, _ := streamServer(t, b, time.Hour)
	resp := openEvents(t, t.Context(), ts.URL+"/works/"+work+"/events")

	var statuses []api.StatusJSON
	var names []string
	for ev := range readEvents(t.Context(), resp.Body) {
		if ev.name == "" {
			continue
		}
		names = append(names, ev.name)
		if ev.name == eventStatus {
			statuses = append(statuses, decodeStatus(t, ev.data))
		}
	}
	if len(statuses) == 0 || names[len(names)-1] != eventEnd {
		t.Fatalf("events %v: want status events, then end", names)
	}
	first, last := statuses[0], statuses[len(statuses)-1]
	if first.IDWork != work || first.Total != 3 {
		t.Errorf("first status %+v: want work %s with 3 ids", first, work)
	}
	if last.Status != "completed" || last.Percent != 100 || last.DownloadURL != "/download/"+work {
		t.Errorf("last status %+v: want completed at 100%% with a download", last)
	}
	for i := 1; i < len(statuses); i++ {
		if reflect.DeepEqual(statuses[i], statuses[i-1]) {
			t.Errorf("status %d repeats the previous one", i)
		}
	}
}

func TestEventsPushOnlyChanges(t *testing.T) {
	b := newFakeBackend(time.Hour)
	work := b.addWork(2, time.Hour)
	ts, _ := streamServer(t, b, time.Hour)
	resp := openEvents(t, t.Context(), ts.URL+"/works/"+work+"/events")
	events := readEvents(t.Context(), resp.Body)

	first := <-events
	if first.name != eventStatus || decodeStatus(t, first.data).Status != "running" {
		t.Fatalf("first event %+v: want a running status", first)
	}
	for b.statusCalls(work) < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	b.finishNow(work)
	var rest []sseEvent
	for ev := range events {
		rest = append(rest, ev)
	}
	if len(rest) != 2 || rest[0].name != eventStatus || rest[1].name != eventEnd {
		t.Fatalf("after 10 polls of an unchanged work, then its end, got %+v: want one status and end", rest)
	}
	if st := decodeStatus(t, rest[0].data); st.Status != "completed" {
		t.Errorf("second status is %q, want completed", st.Status)
	}
}

func TestEventsSendHeartbeats(t *testing.T) {
	b := newFakeBackend(time.Hour)
	work := b.addWork(2, time.Hour)
	ts, _ := streamServer(t, b, 5*time.Millisecond)
	resp := openEvents(t, t.Context(), ts.URL+"/works/"+work+"/events")
	for ev := range readEvents(t.Context(), resp.Body) {
		if ev.comment == "heartbeat" {
			return
		}
	}
	t.Fatal("the stream ended without a heartbeat")
}

func TestEventsStopWhenTheClientLeaves(t *testing.T) {
	b := newFakeBackend(time.Hour)
	work := b.addWork(2, time.Hour)
	ts, done := streamServer(t, b, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	resp := openEvents(t, ctx, ts.URL+"/works/"+work+"/events")
	if ev := <-readEvents(t.Context(), resp.Body); ev.name != eventStatus {
		t.Fatalf("first event %+v: want a status", ev)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still streams after the client left")
	}
}

func TestEventsOfUnknownOrMalformedWork(t *testing.T) {
	h, _ := newTestHandler(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/works/123e4567-e89b-42d3-a456-426614174000/events", http.StatusNotFound},
		{"/works/nope/events", http.StatusBadRequest},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, rec.Code, tc.status)
		}
		var body struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Errorf("%s: body %q is not a JSON error", tc.path, rec.Body.String())
		}
	}
}

// TestEventsCarryTheAPIStatus guards the copy of the status JSON here
// against drifting from the API's.
func TestEventsCarryTheAPIStatus(t *testing.T) {
	b := newFakeBackend(time.Hour)
	b.failing["DO2"] = "the site does not know DO2"
	work := b.addWork(3, time.Hour)
	b.finishNow(work)

	rec := get(t, api.New(api.Config{Backend: b}), "/status/"+work)
	if rec.Code != http.StatusOK {
		t.Fatalf("API status answered %d", rec.Code)
	}
	var fromAPI map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &fromAPI); err != nil {
		t.Fatal(err)
	}

	ts, _ := streamServer(t, b, time.Hour)
	resp := openEvents(t, t.Context(), ts.URL+"/works/"+work+"/events")
	ev := <-readEvents(t.Context(), resp.Body)
	var fromStream map[string]any
	if err := json.Unmarshal([]byte(ev.data), &fromStream); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromAPI, fromStream) {
		t.Errorf("the stream's status differs from the API's:\nstream %v\napi    %v", fromStream, fromAPI)
	}
	if fromStream["errors"].([]any)[0].(map[string]any)["evidence_url"] == nil {
		t.Error("the failed id has no evidence_url")
	}
}
