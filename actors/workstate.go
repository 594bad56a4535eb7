package actors

import (
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// donor is one distinct donor id of a work.
type donor struct {
	id        string
	label     string
	completed *messages.TaskCompleted
	failed    *messages.TaskFailed
}

func (d *donor) done() bool { return d.completed != nil || d.failed != nil }

// entry is an upload row of a work: the label of its result column and the
// donor it names.
type entry struct {
	label, id string
}

// workState is a work as its events tell it. apply is the only way it
// changes, so a replay and a live activation agree. It keeps the upload's
// rows as plain entries rather than the creation event, which takes more
// than twice the memory for a large upload.
type workState struct {
	source    string
	entries   []entry
	createdAt int64
	updatedAt int64
	order     []*donor
	donors    map[string]*donor
	completed int64
	failed    int64
	fromCache int64
	upstream  int64
	cancelled bool
	finished  *messages.WorkFinished
}

func newWorkState() *workState {
	return &workState{donors: map[string]*donor{}}
}

// apply folds one event into the state.
func (s *workState) apply(ev *messages.Event) {
	s.updatedAt = ev.AtUnixMs
	switch k := ev.Kind.(type) {
	case *messages.Event_Created:
		s.create(k.Created, ev.AtUnixMs)
	case *messages.Event_Completed:
		if d := s.pending(k.Completed.Id); d != nil {
			d.completed = k.Completed
			s.completed++
			s.count(k.Completed.FromCache, k.Completed.Attempts)
		}
	case *messages.Event_Failed:
		if d := s.pending(k.Failed.Id); d != nil {
			d.failed = k.Failed
			s.failed++
			s.count(k.Failed.FromCache, k.Failed.Attempts)
		}
	case *messages.Event_Cancelled:
		s.cancelled = true
	case *messages.Event_Finished:
		s.finished = k.Finished
	}
}

func (s *workState) create(c *messages.WorkCreated, at int64) {
	s.source = c.Source
	s.createdAt = at
	s.entries = make([]entry, len(c.Entries))
	for i, e := range c.Entries {
		s.entries[i] = entry{label: e.Label, id: e.Id}
		if _, seen := s.donors[e.Id]; seen {
			continue
		}
		d := &donor{id: e.Id, label: e.Label}
		s.donors[e.Id] = d
		s.order = append(s.order, d)
	}
}

// pending returns the donor if it is known and not yet settled.
func (s *workState) pending(id string) *donor {
	d := s.donors[id]
	if d == nil || d.done() {
		return nil
	}
	return d
}

func (s *workState) count(fromCache bool, attempts int32) {
	if fromCache {
		s.fromCache++
		return
	}
	s.upstream += int64(attempts)
}

func (s *workState) total() int64 { return int64(len(s.order)) }

// allDone reports whether every donor is settled.
func (s *workState) allDone() bool { return s.completed+s.failed == s.total() }

// terminal reports whether nothing more will run for the work.
func (s *workState) terminal() bool { return s.finished != nil || s.cancelled }

// status is the work's status word; running says whether any task runs now.
func (s *workState) status(running int) string {
	switch {
	case s.finished != nil:
		return s.finished.Status
	case s.cancelled:
		return persistence.StatusCancelled
	case running > 0 || s.completed+s.failed > 0:
		return persistence.StatusRunning
	}
	return persistence.StatusPending
}

// finalStatus is the status a work ends with once every donor is settled.
func (s *workState) finalStatus() string {
	switch {
	case s.failed == 0:
		return persistence.StatusCompleted
	case s.completed == 0:
		return persistence.StatusFailed
	}
	return persistence.StatusCompletedWithErrors
}

// snapshot builds the status message. meanGap estimates the time per
// upstream request for the ETA.
func (s *workState) snapshot(id string, running int, meanGap time.Duration) *messages.WorkStatus {
	total := s.total()
	st := &messages.WorkStatus{
		Found:            true,
		Idwork:           id,
		Status:           s.status(running),
		Total:            total,
		FromCache:        s.fromCache,
		CreatedAtUnixMs:  s.createdAt,
		UpdatedAtUnixMs:  s.updatedAt,
		UpstreamRequests: s.upstream,
		Counts:           s.counts(running),
	}
	if total > 0 {
		st.Percent = float64(s.completed+s.failed) * 100 / float64(total)
	}
	if s.finished != nil {
		st.ResultBlob = s.finished.ResultBlob
		st.Error = s.finished.Error
	}
	if !s.terminal() {
		st.EtaSeconds = float64(total-s.completed-s.failed) * meanGap.Seconds()
	}
	st.Errors = s.errors()
	return st
}

func (s *workState) counts(running int) *messages.Counts {
	rest := s.total() - s.completed - s.failed
	c := &messages.Counts{Completed: s.completed, Failed: s.failed}
	switch {
	case s.cancelled:
		c.Cancelled = rest
	default:
		c.Running = int64(running)
		c.Pending = rest - int64(running)
	}
	return c
}

func (s *workState) errors() []*messages.TaskError {
	var out []*messages.TaskError
	for _, d := range s.order {
		if d.failed == nil {
			continue
		}
		out = append(out, &messages.TaskError{
			Id:               d.id,
			Label:            d.label,
			Error:            d.failed.Error,
			Attempts:         d.failed.Attempts,
			EvidenceBlob:     d.failed.EvidenceBlob,
			EvidenceHtmlBlob: d.failed.EvidenceHtmlBlob,
		})
	}
	return out
}
