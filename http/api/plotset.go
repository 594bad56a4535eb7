package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"golang.org/x/sync/singleflight"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/chart"
)

// Plots of a finished work are drawn from its stored result when asked for,
// never while its tasks run, and kept in memory: a finished work's result
// does not change, so neither do its plots.
const (
	// meanPlot names the plot of a work's mean profile. It shadows a
	// specimen labelled "mean" on GET /works/{idwork}/plots/, whose plot is
	// still in the zip of GET /download/{idwork}?format=plots.
	meanPlot = "mean"
	// plotImageBytes bounds the drawn images kept in memory.
	plotImageBytes = 32 << 20
	// plotSetSpecimens bounds the specimens of the works whose plot data is
	// kept in memory.
	plotSetSpecimens = 20_000
	// maxDraws bounds the charts drawn at once, so that a page of
	// thumbnails does not take every core of the node.
	maxDraws = 2
)

// plotCache holds what the plot handlers keep between requests. It is safe
// for concurrent use.
type plotCache struct {
	images *lru[[]byte]
	sets   *lru[*plotSet]
	// building lets concurrent requests for one work's plot set share one
	// read of its result and events.
	building singleflight.Group
	draws    chan struct{}
}

func newPlotCache() *plotCache {
	return &plotCache{
		images: newLRU[[]byte](plotImageBytes),
		sets:   newLRU[*plotSet](plotSetSpecimens),
		draws:  make(chan struct{}, maxDraws),
	}
}

// plotSet is what a finished work's plots are drawn from: a specimen per
// column of its result, in the result's order, and the mean profile. It is
// not changed once built.
type plotSet struct {
	workID    string
	specimens []specimen
	byLabel   map[string]int
	mean      chart.Chart
}

// specimen is one column of a result: its label as uploaded, the donor it
// was fetched for, and the counts.
type specimen struct {
	label   string
	donorID string
	counts  [96]int64
}

// total is the specimen's number of mutations.
func (sp specimen) total() int64 {
	var n int64
	for _, k := range sp.counts {
		n += k
	}
	return n
}

// chart returns the chart called name: the mean or a specimen's label.
func (p *plotSet) chart(name string, scale chart.Scale) (chart.Chart, bool) {
	if name == meanPlot {
		return p.mean, true
	}
	i, ok := p.byLabel[name]
	if !ok {
		return chart.Chart{}, false
	}
	sp := p.specimens[i]
	return chart.ForProfile(sp.label, sp.donorID, sp.counts, scale), true
}

// finishedPlotSet returns the plot set of the request's work: from memory
// without asking the work, or built once the work is known to be finished.
func (s *server) finishedPlotSet(r *http.Request) (*plotSet, error) {
	id, err := workID(r)
	if err != nil {
		return nil, err
	}
	if set, ok := s.plots.sets.get(id); ok {
		return set, nil
	}
	st, err := s.findWork(r)
	if err != nil {
		return nil, err
	}
	return s.plotSet(r.Context(), st)
}

// plotSet returns the plot set of a finished work, from memory or built
// from its stored result and events. An unfinished work, or one without a
// result, is a conflict.
func (s *server) plotSet(ctx context.Context, st *messages.WorkStatus) (*plotSet, error) {
	if !persistence.Finished(st.GetStatus()) || st.GetResultBlob() == "" {
		return nil, errorf(http.StatusConflict, "work %s has no result to plot (status %s)",
			st.GetIdwork(), st.GetStatus())
	}
	if set, ok := s.plots.sets.get(st.GetIdwork()); ok {
		return set, nil
	}
	// The build outlives a caller that goes away, since others may wait on it.
	ctx = context.WithoutCancel(ctx)
	v, err, _ := s.plots.building.Do(st.GetIdwork(), func() (any, error) {
		set, err := s.buildPlotSet(ctx, st)
		if err != nil {
			return nil, err
		}
		s.plots.sets.add(set.workID, set, len(set.specimens)+1)
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*plotSet), nil
}

// buildPlotSet pairs the columns of the stored result with the upload rows
// whose donor completed, which the work wrote them from, in the same order.
func (s *server) buildPlotSet(ctx context.Context, st *messages.WorkStatus) (*plotSet, error) {
	data, err := s.storedResult(ctx, st)
	if err != nil {
		return nil, err
	}
	cols, err := profile.ReadMatrix(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing result of work %s: %w", st.GetIdwork(), err)
	}
	l, err := s.workEvents(ctx, st.GetIdwork())
	if err != nil {
		return nil, err
	}
	var rows []*messages.Entry
	for _, e := range l.created.GetEntries() {
		if l.byID[e.GetId()].completed != nil {
			rows = append(rows, e)
		}
	}
	if len(rows) != len(cols) {
		return nil, fmt.Errorf("result of work %s has %d columns for %d completed rows",
			st.GetIdwork(), len(cols), len(rows))
	}
	return newPlotSet(st.GetIdwork(), rows, cols)
}

// newPlotSet pairs rows and columns, checking that each column bears its
// row's label, and averages the distinct donors' profiles.
func newPlotSet(workID string, rows []*messages.Entry, cols []profile.Column) (*plotSet, error) {
	set := &plotSet{workID: workID, byLabel: map[string]int{}}
	seen := map[string]bool{}
	var distinct [][96]int64
	for i, e := range rows {
		if cols[i].Label != neutralise(e.GetLabel()) {
			return nil, fmt.Errorf("result of work %s: column %d is %q, not %q",
				workID, i+1, cols[i].Label, e.GetLabel())
		}
		set.byLabel[e.GetLabel()] = i
		set.specimens = append(set.specimens, specimen{label: e.GetLabel(), donorID: e.GetId(), counts: cols[i].Counts})
		if !seen[e.GetId()] {
			seen[e.GetId()] = true
			distinct = append(distinct, cols[i].Counts)
		}
	}
	set.mean = chart.Mean("Mean profile of work "+workID[:8], distinct)
	return set, nil
}

// cachedDraw returns the image under key, drawing and keeping it if needed.
func (s *server) cachedDraw(ctx context.Context, key string, c chart.Chart, format string, size chart.Size) ([]byte, error) {
	if data, ok := s.plots.images.get(key); ok {
		return data, nil
	}
	data, err := s.draw(ctx, c, format, size)
	if err != nil {
		return nil, err
	}
	s.plots.images.add(key, data, len(data))
	return data, nil
}

// draw draws a chart once one of the maxDraws turns is free.
func (s *server) draw(ctx context.Context, c chart.Chart, format string, size chart.Size) ([]byte, error) {
	select {
	case s.plots.draws <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to draw a plot: %w", ctx.Err())
	}
	defer func() { <-s.plots.draws }()
	var buf bytes.Buffer
	if err := c.Write(&buf, format, size); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
