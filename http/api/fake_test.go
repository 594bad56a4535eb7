package api

import (
	"context"
	"sync"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// fakeBackend is a Backend in memory. Its statuses answer Status; cancelled
// answers Cancel.
type fakeBackend struct {
	mu        sync.Mutex
	store     *fakeStore
	statuses  map[string]*messages.WorkStatus
	cancelled map[string]*messages.WorkStatus
	created   []*messages.WorkCreated
	originals [][]byte
	submitErr error
	limits    persistence.Limits
	info      ClusterInfo
	readyErr  error
	sourceErr error
	panicky   bool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		store: &fakeStore{
			blobs: map[string]blob{}, events: map[string][]*messages.Event{},
			cache: map[string]persistence.CacheEntry{},
		},
		statuses:  map[string]*messages.WorkStatus{},
		cancelled: map[string]*messages.WorkStatus{},
		limits:    persistence.Limits{MinInterval: 1e9, MaxInterval: 3e9, MaxConcurrency: 2},
	}
}

func (f *fakeBackend) Store() persistence.Store { return f.store }
func (f *fakeBackend) SourceKey() string        { return "http:test" }
func (f *fakeBackend) SourceProblem() error     { return f.sourceErr }

func (f *fakeBackend) SubmitWork(_ context.Context, c *messages.WorkCreated, original []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.submitErr != nil {
		return f.submitErr
	}
	f.created = append(f.created, c)
	f.originals = append(f.originals, append([]byte(nil), original...))
	return nil
}

func (f *fakeBackend) Status(_ context.Context, id string) (*messages.WorkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicky {
		panic("status exploded")
	}
	if st, ok := f.statuses[id]; ok {
		return st, nil
	}
	return &messages.WorkStatus{}, nil
}

func (f *fakeBackend) Cancel(_ context.Context, id string) (*messages.WorkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.cancelled[id]; ok {
		return st, nil
	}
	return &messages.WorkStatus{}, nil
}

func (f *fakeBackend) Limits(context.Context) (persistence.Limits, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limits, nil
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

func (f *fakeBackend) Cluster(context.Context) (ClusterInfo, error) { return f.info, nil }
func (f *fakeBackend) Ready(context.Context) error                  { return f.readyErr }

type blob struct {
	data        []byte
	contentType string
}

// fakeStore holds blobs and works; other Store methods are not used by the
// API and panic through the nil embedded interface.
type fakeStore struct {
	persistence.Store
	mu            sync.Mutex
	blobs         map[string]blob
	works         []persistence.WorkSummary
	limit, offset int
	events        map[string][]*messages.Event
	cache         map[string]persistence.CacheEntry // by source + " " + donor id
	limitsChanges []persistence.LimitsChange        // oldest first
}

func (s *fakeStore) Blob(_ context.Context, key string) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[key]
	if !ok {
		return nil, "", persistence.ErrNotFound
	}
	return b.data, b.contentType, nil
}

func (s *fakeStore) ListWorks(_ context.Context, limit, offset int) ([]persistence.WorkSummary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.offset = limit, offset
	if offset >= len(s.works) {
		return nil, nil
	}
	return s.works[offset:min(len(s.works), offset+limit)], nil
}

func (s *fakeStore) Events(_ context.Context, workID string) ([]*messages.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[workID], nil
}

func (s *fakeStore) CachedProfile(_ context.Context, source, donorID string) (persistence.CacheEntry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cache[source+" "+donorID]
	return e, ok, nil
}

// LimitsHistory returns, as the stores do, the last change at or before
// from and the changes after it up to to.
func (s *fakeStore) LimitsHistory(_ context.Context, from, to time.Time) ([]persistence.LimitsChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []persistence.LimitsChange
	for _, c := range s.limitsChanges {
		switch {
		case !c.At.After(from):
			out = append(out[:0], c)
		case !c.At.After(to):
			out = append(out, c)
		}
	}
	return out, nil
}
