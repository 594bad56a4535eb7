package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/signalscrape/signalscrape/http/api"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// Event names of a work's stream. A "status" event carries the status JSON;
// "end" says the work is finished and the stream closes.
const (
	eventStatus = "status"
	eventEnd    = "end"
)

// reconnectMS is how long a browser waits before reconnecting a broken
// stream.
const reconnectMS = 3000

// events streams a work's status as server-sent events: the status at once,
// then again whenever it changes, a comment every heartbeat, and an end event
// once the work is finished. It stops when the client goes away.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "idwork")
	if !validWorkID(id) {
		jsonError(w, http.StatusBadRequest, "malformed work id "+shown(id))
		return
	}
	st, err := s.backend.Status(r.Context(), id)
	switch {
	case err != nil:
		s.log.Warn("reading work status failed", "work_id", id, "err", err)
		jsonError(w, http.StatusServiceUnavailable, "the work's status could not be read")
		return
	case !st.GetFound():
		jsonError(w, http.StatusNotFound, "no work "+id)
		return
	}
	s.log.Debug("events stream opened", "work_id", id)
	out, err := openStream(w)
	if err == nil {
		out.backend = s.backend
		err = s.stream(r.Context(), out, st)
	}
	s.log.Debug("events stream closed", "work_id", id, "err", err)
}

// stream pushes st and its changes until the work is finished, ctx ends or a
// write fails.
func (s *server) stream(ctx context.Context, out *eventStream, st *messages.WorkStatus) error {
	id := st.GetIdwork()
	last, err := out.status(st, nil)
	if err != nil {
		return err
	}
	poll := time.NewTicker(s.poll)
	defer poll.Stop()
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for !persistence.Finished(st.GetStatus()) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heartbeat.C:
			err = out.comment("heartbeat")
		case <-poll.C:
			st, last, err = s.pollOnce(ctx, out, id, st, last)
		}
		if err != nil {
			return err
		}
	}
	return out.event(eventEnd, []byte("{}"))
}

// errWorkGone means a work that was streamed is no longer found.
var errWorkGone = errors.New("work no longer found")

// pollOnce asks for the status and pushes it if it changed. A failed read is
// logged and skipped: the next tick tries again.
func (s *server) pollOnce(ctx context.Context, out *eventStream, id string, prev *messages.WorkStatus,
	last []byte) (*messages.WorkStatus, []byte, error) {
	st, err := s.backend.Status(ctx, id)
	switch {
	case err != nil && ctx.Err() != nil:
		return prev, last, ctx.Err()
	case err != nil:
		s.log.Debug("reading work status failed", "work_id", id, "err", err)
		return prev, last, nil
	case !st.GetFound():
		return prev, last, errors.Join(errWorkGone, out.event(eventEnd, []byte("{}")))
	}
	last, err = out.status(st, last)
	return st, last, err
}

// eventStream writes server-sent events and flushes each one. Its status
// events name the source of backend, when set, as the API's status does.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	backend api.Backend
}

// openStream sends the headers of an event stream and the browser's
// reconnection delay. The stream lasts as long as the work, so it lifts the
// server's write deadline where it can.
func openStream(w http.ResponseWriter) (*eventStream, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &eventStream{w: w, rc: rc}
	return out, out.write(fmt.Sprintf("retry: %d\n\n", reconnectMS))
}

// status pushes st unless its JSON equals last; it returns the JSON now
// shown.
func (e *eventStream) status(st *messages.WorkStatus, last []byte) ([]byte, error) {
	body := api.StatusBody(st)
	if e.backend != nil {
		body.Source = api.SourceBody(e.backend)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return last, fmt.Errorf("encoding status of work %s: %w", st.GetIdwork(), err)
	}
	if bytes.Equal(data, last) {
		return last, nil
	}
	return data, e.event(eventStatus, data)
}

// event writes one event whose data is a single line of JSON.
func (e *eventStream) event(name string, data []byte) error {
	return e.write("event: " + name + "\ndata: " + string(data) + "\n\n")
}

// comment writes a comment line, which browsers ignore.
func (e *eventStream) comment(text string) error {
	return e.write(": " + text + "\n\n")
}

func (e *eventStream) write(s string) error {
	if _, err := e.w.Write([]byte(s)); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	if err := e.rc.Flush(); err != nil {
		return fmt.Errorf("flushing event: %w", err)
	}
	return nil
}

// jsonError answers like the JSON API does: {"error": msg}.
func jsonError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"error": msg})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
