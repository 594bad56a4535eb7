package web

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/http/api"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
)

// fakeBackend is an api.Backend in memory whose works progress with the
// clock: a work settles one id every step after it starts, failing the ids
// listed in failing, and stores a result once every id is settled.
type fakeBackend struct {
	mu        sync.Mutex
	works     map[string]*fakeWork
	order     []string
	blobs     map[string][]byte
	step      time.Duration
	failing   map[string]string
	limits    persistence.Limits
	statusErr error
	sourceErr error
	calls     map[string]int
	// profiles holds the counts results show for some donors; the others
	// get made-up counts.
	profiles map[string][96]int64
	// attempts holds how often some failing ids were tried; the others
	// show 1.
	attempts map[string]int32
}

// fakeWork is one work of the fake.
type fakeWork struct {
	id        string
	filename  string
	entries   []*messages.Entry
	ids       []string
	start     time.Time
	step      time.Duration
	cancelled int
}

func newFakeBackend(step time.Duration) *fakeBackend {
	return &fakeBackend{
		works:    map[string]*fakeWork{},
		blobs:    map[string][]byte{},
		step:     step,
		failing:  map[string]string{},
		attempts: map[string]int32{},
		limits:   persistence.Limits{MinInterval: time.Second, MaxInterval: 3 * time.Second, MaxConcurrency: 2},
		calls:    map[string]int{},
		profiles: map[string][96]int64{},
	}
}

// addWork adds a work of n ids named DO1, DO2, … that settles one id every
// step, and returns its id.
func (f *fakeBackend) addWork(n int, step time.Duration) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("DO%d", i+1)
	}
	return f.addIDs(step, ids...)
}

// addIDs adds a work of the ids, each labelled SP followed by the id
// without its first two characters, that settles one id every step, and
// returns its id.
func (f *fakeBackend) addIDs(step time.Duration, ids ...string) string {
	entries := make([]*messages.Entry, len(ids))
	for i, id := range ids {
		entries[i] = &messages.Entry{Id: id, Label: "SP" + id[2:]}
	}
	created := &messages.WorkCreated{Idwork: uuid.NewString(), Entries: entries, Filename: "seeded.csv"}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.add(created, step)
	return created.Idwork
}

func (f *fakeBackend) add(c *messages.WorkCreated, step time.Duration) {
	w := &fakeWork{id: c.Idwork, filename: c.Filename, entries: c.Entries, start: time.Now(), step: step, cancelled: -1}
	for _, e := range c.Entries {
		if !slices.Contains(w.ids, e.Id) {
			w.ids = append(w.ids, e.Id)
		}
	}
	f.works[w.id] = w
	f.order = append(f.order, w.id)
}

// finishNow settles every id of a work at once.
func (f *fakeBackend) finishNow(id string) {
	f.settleNow(id, -1)
}

// settleNow settles the next n ids of a work at once, or all of them when n
// is negative, by moving its start back by n steps.
func (f *fakeBackend) settleNow(id string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.works[id]
	if n < 0 {
		n = len(w.ids)
	}
	w.start = w.start.Add(-w.step * time.Duration(n))
}

// newestFirst lists the ids of the works, the newest first.
func (f *fakeBackend) newestFirst() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Clone(f.order)
	slices.Reverse(ids)
	return ids
}

// statusCalls counts the Status calls for a work.
func (f *fakeBackend) statusCalls(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeBackend) currentLimits() persistence.Limits {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limits
}

func (f *fakeBackend) Store() persistence.Store { return &fakeStore{b: f} }
func (f *fakeBackend) SourceKey() string        { return "http:fake" }

func (f *fakeBackend) SourceProblem() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sourceErr
}

func (f *fakeBackend) setSourceErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sourceErr = err
}

func (f *fakeBackend) SubmitWork(_ context.Context, c *messages.WorkCreated, _ []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.add(c, f.step)
	return nil
}

func (f *fakeBackend) Status(_ context.Context, id string) (*messages.WorkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id]++
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	w, ok := f.works[id]
	if !ok {
		return &messages.WorkStatus{}, nil
	}
	return f.snapshot(w, time.Now()), nil
}

func (f *fakeBackend) Cancel(_ context.Context, id string) (*messages.WorkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.works[id]
	if !ok {
		return &messages.WorkStatus{}, nil
	}
	st := f.snapshot(w, time.Now())
	switch {
	case w.cancelled >= 0:
	case persistence.Finished(st.Status):
		st.Error = fmt.Sprintf("work %s already finished (%s)", id, st.Status)
		return st, nil
	default:
		w.cancelled = w.settled(time.Now())
	}
	return f.snapshot(w, time.Now()), nil
}

func (f *fakeBackend) Limits(context.Context) (persistence.Limits, error) {
	return f.currentLimits(), nil
}

func (f *fakeBackend) InitialLimits() persistence.Limits {
	return persistence.Limits{MinInterval: time.Second, MaxInterval: 3 * time.Second, MaxConcurrency: 2}
}

func (f *fakeBackend) SetLimits(_ context.Context, l persistence.Limits) (persistence.Limits, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits = l
	return l, nil
}

func (f *fakeBackend) Cluster(context.Context) (api.ClusterInfo, error) {
	return api.ClusterInfo{
		Members: []api.Member{
			{Name: "node-a", GossipAddr: "127.0.0.1:7946", ActorAddr: "127.0.0.1:8090", HTTPAddr: "127.0.0.1:8080", Status: "alive", Tasks: 12},
			{Name: "node-b", GossipAddr: "127.0.0.1:7947", ActorAddr: "127.0.0.1:8091", HTTPAddr: "127.0.0.1:8081", Status: "suspect", Tasks: 3},
		},
		TokenBucket: api.BucketInfo{Member: "node-a", InFlight: 1, GrantedTotal: 15, Queued: 2},
	}, nil
}

func (f *fakeBackend) Ready(context.Context) error { return nil }

// settled is how many ids of the work are settled at now.
func (w *fakeWork) settled(now time.Time) int {
	if w.cancelled >= 0 {
		return w.cancelled
	}
	return min(len(w.ids), int(now.Sub(w.start)/w.step))
}

// snapshot builds the work's status at now; the caller holds f.mu.
func (f *fakeBackend) snapshot(w *fakeWork, now time.Time) *messages.WorkStatus {
	done := w.settled(now)
	total := int64(len(w.ids))
	st := &messages.WorkStatus{
		Found: true, Idwork: w.id, Total: total, Counts: &messages.Counts{},
		Percent:         float64(done) * 100 / float64(total),
		CreatedAtUnixMs: w.start.UnixMilli(),
		UpdatedAtUnixMs: w.start.Add(w.step * time.Duration(done)).UnixMilli(),
		Member:          "node-a",
	}
	for i, id := range w.ids[:done] {
		if reason, ok := f.failing[id]; ok {
			st.Counts.Failed++
			st.Errors = append(st.Errors, &messages.TaskError{
				Id: id, Label: labelOf(w, id), Error: reason, Attempts: max(1, f.attempts[id]),
				EvidenceBlob: fmt.Sprintf("evidence/%s/%d", w.id, i), EvidenceHtmlBlob: fmt.Sprintf("evidence/%s/%d.html", w.id, i),
			})
			continue
		}
		st.Counts.Completed++
	}
	rest := total - int64(done)
	switch {
	case w.cancelled >= 0:
		st.Status, st.Counts.Cancelled = persistence.StatusCancelled, rest
	case rest > 0:
		st.Status, st.Counts.Running, st.Counts.Pending = persistence.StatusRunning, 1, rest-1
		st.EtaSeconds = float64(rest) * w.step.Seconds()
	default:
		f.finish(w, st)
	}
	return st
}

// finish sets the final status of a settled work and stores its result and
// evidence files; the caller holds f.mu.
func (f *fakeBackend) finish(w *fakeWork, st *messages.WorkStatus) {
	switch {
	case st.Counts.Failed == 0:
		st.Status = persistence.StatusCompleted
	case st.Counts.Completed == 0:
		st.Status = persistence.StatusFailed
	default:
		st.Status = persistence.StatusCompletedWithErrors
	}
	for _, e := range st.Errors {
		f.blobs[e.EvidenceBlob] = []byte("\x89PNG\r\n\x1a\n")
		f.blobs[e.EvidenceHtmlBlob] = []byte("<html><body>not found</body></html>")
	}
	if st.Counts.Completed == 0 {
		return
	}
	st.ResultBlob = "results/" + w.id + ".csv"
	if _, ok := f.blobs[st.ResultBlob]; !ok {
		f.blobs[st.ResultBlob] = f.matrixOf(w)
	}
}

func labelOf(w *fakeWork, id string) string {
	for _, e := range w.entries {
		if e.Id == id {
			return e.Label
		}
	}
	return id
}

// matrixOf writes the result matrix of a settled work: a column per entry
// whose id did not fail; the caller holds f.mu.
func (f *fakeBackend) matrixOf(w *fakeWork) []byte {
	var cols []profile.Column
	for i, e := range w.entries {
		if _, failed := f.failing[e.Id]; failed {
			continue
		}
		counts, ok := f.profiles[e.Id]
		if !ok {
			for c := range counts {
				counts[c] = int64((c*7 + i*13) % 40)
			}
		}
		cols = append(cols, profile.Column{Label: e.Label, Counts: counts})
	}
	var buf bytes.Buffer
	if err := profile.WriteMatrix(&buf, "csv", cols); err != nil {
		panic("writing the fake result: " + err.Error())
	}
	return buf.Bytes()
}

// events are the events of a work as far as the plots read them: its
// creation and the outcome of every settled id.
func (f *fakeBackend) events(w *fakeWork) []*messages.Event {
	events := []*messages.Event{{Seq: 1, Kind: &messages.Event_Created{Created: &messages.WorkCreated{
		Idwork: w.id, Entries: w.entries,
	}}}}
	for _, id := range w.ids[:w.settled(time.Now())] {
		ev := &messages.Event{Seq: int64(len(events) + 1)}
		if reason, failed := f.failing[id]; failed {
			ev.Kind = &messages.Event_Failed{Failed: &messages.TaskFailed{Id: id, Error: reason}}
		} else {
			ev.Kind = &messages.Event_Completed{Completed: &messages.TaskCompleted{Id: id}}
		}
		events = append(events, ev)
	}
	return events
}

// fakeStore serves the blobs and the works list of a fakeBackend; the other
// Store methods are not used by the API and panic through the nil
// embedded interface.
type fakeStore struct {
	persistence.Store
	b *fakeBackend
}

func (s *fakeStore) Blob(_ context.Context, key string) ([]byte, string, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	data, ok := s.b.blobs[key]
	if !ok {
		return nil, "", persistence.ErrNotFound
	}
	ct := "text/csv"
	switch {
	case strings.HasSuffix(key, ".html"):
		ct = "text/html"
	case strings.HasPrefix(key, "evidence/"):
		ct = "image/png"
	}
	return data, ct, nil
}

func (s *fakeStore) ListWorks(_ context.Context, limit, offset int) ([]persistence.WorkSummary, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var out []persistence.WorkSummary
	for i := len(s.b.order) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		w := s.b.works[s.b.order[i]]
		st := s.b.snapshot(w, time.Now())
		out = append(out, persistence.WorkSummary{
			ID: w.id, Status: st.Status, Total: st.Total, Filename: w.filename,
			CreatedAt: w.start, UpdatedAt: time.UnixMilli(st.UpdatedAtUnixMs),
		})
	}
	return out, nil
}

func (s *fakeStore) Events(_ context.Context, workID string) ([]*messages.Event, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	w, ok := s.b.works[workID]
	if !ok {
		return nil, nil
	}
	return s.b.events(w), nil
}

// fail makes an id fail, after the given number of attempts, in every work
// that settles it from now on.
func (f *fakeBackend) fail(id, reason string, attempts int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing[id] = reason
	f.attempts[id] = attempts
}

// setProfile sets the counts results show for a donor.
func (f *fakeBackend) setProfile(id string, counts [96]int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.profiles[id] = counts
}
