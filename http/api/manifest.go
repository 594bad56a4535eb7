package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
)

// Outcomes of a donor in the manifest.
const (
	outcomeCompleted = "completed"
	outcomeFailed    = "failed"
	outcomePending   = "pending"
	outcomeNotRun    = "not_run"
)

// donorLog is one donor as a work's events tell it: its labels in upload
// order and its last outcome, if any.
type donorLog struct {
	id        string
	labels    []string
	completed *messages.TaskCompleted
	failed    *messages.TaskFailed
}

// workLog is a work's events folded.
type workLog struct {
	created    *messages.WorkCreated
	createdAt  int64       // unix ms of the WorkCreated event
	donors     []*donorLog // in the order of their first upload row
	byID       map[string]*donorLog
	finishedAt int64 // unix ms of the WorkFinished event, or zero
	endedAt    int64 // unix ms of the WorkFinished or WorkCancelled event, or zero
}

// foldEvents folds a work's events; the last Completed or Failed event of a
// donor wins.
func foldEvents(events []*messages.Event) (*workLog, error) {
	l := &workLog{byID: map[string]*donorLog{}}
	for _, ev := range events {
		switch k := ev.GetKind().(type) {
		case *messages.Event_Created:
			l.create(k.Created)
			l.createdAt = ev.GetAtUnixMs()
		case *messages.Event_Completed:
			if d := l.byID[k.Completed.GetId()]; d != nil {
				d.completed, d.failed = k.Completed, nil
			}
		case *messages.Event_Failed:
			if d := l.byID[k.Failed.GetId()]; d != nil {
				d.completed, d.failed = nil, k.Failed
			}
		case *messages.Event_Finished:
			l.finishedAt, l.endedAt = ev.GetAtUnixMs(), ev.GetAtUnixMs()
		case *messages.Event_Cancelled:
			l.endedAt = ev.GetAtUnixMs()
		}
	}
	if l.created == nil {
		return nil, fmt.Errorf("no creation event among %d events", len(events))
	}
	return l, nil
}

func (l *workLog) create(c *messages.WorkCreated) {
	l.created = c
	for _, e := range c.GetEntries() {
		d := l.byID[e.GetId()]
		if d == nil {
			d = &donorLog{id: e.GetId()}
			l.byID[d.id] = d
			l.donors = append(l.donors, d)
		}
		d.labels = append(d.labels, e.GetLabel())
	}
}

// workEvents reads and folds a work's events.
func (s *server) workEvents(ctx context.Context, workID string) (*workLog, error) {
	events, err := s.backend.Store().Events(ctx, workID)
	if err != nil {
		return nil, fmt.Errorf("reading events of work %s: %w", workID, err)
	}
	l, err := foldEvents(events)
	if err != nil {
		return nil, fmt.Errorf("folding events of work %s: %w", workID, err)
	}
	return l, nil
}

// manifestJSON is the body of GET /download/{idwork}?format=manifest. Limits
// are the limits in force when the work was created and LimitsChanges their
// changes while it ran, oldest first.
type manifestJSON struct {
	IDWork        string              `json:"idwork"`
	Status        string              `json:"status"`
	CreatedAt     string              `json:"created_at"`
	UpdatedAt     string              `json:"updated_at"`
	FinishedAt    string              `json:"finished_at,omitempty"`
	Version       string              `json:"version"`
	Source        string              `json:"source"`
	Limits        limitsJSON          `json:"limits"`
	LimitsChanges []limitsChangeJSON  `json:"limits_changes"`
	Donors        []manifestDonorJSON `json:"donors"`
}

type manifestDonorJSON struct {
	ID        string   `json:"id"`
	Labels    []string `json:"labels"`
	Outcome   string   `json:"outcome"`
	Error     string   `json:"error,omitempty"`
	Attempts  int32    `json:"attempts"`
	FromCache bool     `json:"from_cache"`
	SHA256    string   `json:"sha256,omitempty"`
	SourceURL string   `json:"source_url,omitempty"`
	FetchedAt string   `json:"fetched_at,omitempty"`
}

// serveManifest writes what a work fetched, from where, under which limits.
func (s *server) serveManifest(ctx context.Context, w http.ResponseWriter, st *messages.WorkStatus) error {
	l, err := s.workEvents(ctx, st.GetIdwork())
	if err != nil {
		return err
	}
	m := s.manifest(st, l)
	if m.Limits, m.LimitsChanges, err = s.workLimits(ctx, l); err != nil {
		return err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest of work %s: %w", st.GetIdwork(), err)
	}
	body = append(body, '\n')
	attachment(w, "application/json", "signalscrape-"+st.GetIdwork()+".manifest.json", len(body))
	_, _ = w.Write(body)
	return nil
}

func (s *server) manifest(st *messages.WorkStatus, l *workLog) manifestJSON {
	m := manifestJSON{
		IDWork: st.GetIdwork(), Status: st.GetStatus(),
		CreatedAt: timestamp(st.GetCreatedAtUnixMs()), UpdatedAt: timestamp(st.GetUpdatedAtUnixMs()),
		Version: s.version, Source: l.created.GetSource(),
		Donors: make([]manifestDonorJSON, len(l.donors)),
	}
	if m.Source == "" {
		m.Source = s.backend.SourceKey()
	}
	if l.finishedAt != 0 {
		m.FinishedAt = timestamp(l.finishedAt)
	}
	for i, d := range l.donors {
		m.Donors[i] = manifestDonor(d, persistence.Finished(st.GetStatus()))
	}
	return m
}

// manifestDonor describes a donor; one without an outcome is pending while
// the work runs and was not run once it finished.
func manifestDonor(d *donorLog, finished bool) manifestDonorJSON {
	out := manifestDonorJSON{ID: d.id, Labels: d.labels, Outcome: outcomePending}
	switch {
	case d.completed != nil:
		c := d.completed
		out.Outcome, out.Attempts, out.FromCache = outcomeCompleted, c.GetAttempts(), c.GetFromCache()
		out.SHA256, out.SourceURL = c.GetSha256(), c.GetSourceUrl()
		if c.GetFetchedAtUnixMs() != 0 {
			out.FetchedAt = timestamp(c.GetFetchedAtUnixMs())
		}
	case d.failed != nil:
		f := d.failed
		out.Outcome, out.Error, out.Attempts, out.FromCache = outcomeFailed, f.GetError(), f.GetAttempts(), f.GetFromCache()
	case finished:
		out.Outcome = outcomeNotRun
	}
	return out
}

// partialResult writes in format the matrix of the donors a work completed so
// far, in the way the work builds its result: a column per upload row whose
// donor completed, the counts read from the profile cache.
func (s *server) partialResult(ctx context.Context, workID, format string) ([]byte, error) {
	l, err := s.workEvents(ctx, workID)
	if err != nil {
		return nil, err
	}
	counts := map[string][96]int64{}
	var cols []profile.Column
	for _, e := range l.created.GetEntries() {
		if l.byID[e.GetId()].completed == nil {
			continue
		}
		c, ok := counts[e.GetId()]
		if !ok {
			if c, err = s.cachedCounts(ctx, l.created.GetSource(), e.GetId()); err != nil {
				return nil, fmt.Errorf("partial result of work %s: %w", workID, err)
			}
			counts[e.GetId()] = c
		}
		cols = append(cols, profile.Column{Label: e.GetLabel(), Counts: c})
	}
	return matrixBytes(workID, format, cols)
}

// cachedCounts reads a completed donor's profile from the cache.
func (s *server) cachedCounts(ctx context.Context, source, donorID string) ([96]int64, error) {
	e, ok, err := s.backend.Store().CachedProfile(ctx, source, donorID)
	if err != nil {
		return [96]int64{}, fmt.Errorf("reading the cached profile of %s: %w", donorID, err)
	}
	if !ok || e.Outcome != persistence.OutcomeFound {
		return [96]int64{}, fmt.Errorf("profile of %s missing from the cache", donorID)
	}
	p, err := profile.Parse(e.Body, donorID)
	if err != nil {
		return [96]int64{}, fmt.Errorf("cached profile of %s: %w", donorID, err)
	}
	return p.Counts, nil
}
