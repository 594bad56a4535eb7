// Package persistence holds the state of signalscrape: the append-only event
// log of every work, the profile cache, the politeness limits and their
// changes, stored files and the token bucket's lock. Store has two
// implementations with one behaviour: an embedded SQLite file for a single
// node (package sqlite) and PostgreSQL for a cluster (package postgres);
// package storetest checks both.
package persistence

import (
	"context"
	"errors"
	"time"

	"github.com/signalscrape/signalscrape/messages"
)

// ErrConflict means an append's expected sequence number was not the last one
// in the log: another activation of the work wrote first.
var ErrConflict = errors.New("event sequence conflict")

// ErrNotFound means the asked-for work, blob or limits do not exist.
var ErrNotFound = errors.New("not found")

// Work statuses as stored in the works projection and shown by the API.
const (
	StatusPending             = "pending"
	StatusRunning             = "running"
	StatusCompleted           = "completed"
	StatusCompletedWithErrors = "completed_with_errors"
	StatusFailed              = "failed"
	StatusCancelled           = "cancelled"
)

// Finished reports whether status is terminal.
func Finished(status string) bool {
	switch status {
	case StatusCompleted, StatusCompletedWithErrors, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// WorkSummary is one row of the works projection, for listings and recovery.
type WorkSummary struct {
	ID        string
	Status    string
	Total     int64
	Filename  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Outcome is what the source answered for a donor, as cached.
type Outcome string

// Cached outcomes.
const (
	OutcomeFound    Outcome = "found"
	OutcomeNotFound Outcome = "not_found"
)

// CacheEntry is one cached answer of a source for a donor. Body and SHA256 are
// set only for OutcomeFound; SHA256 is the lowercase hex digest of Body.
type CacheEntry struct {
	Source    string
	DonorID   string
	Outcome   Outcome
	Body      []byte
	SHA256    string
	URL       string
	FetchedAt time.Time
}

// Limits are the cluster-wide politeness limits.
type Limits struct {
	MinInterval    time.Duration
	MaxInterval    time.Duration
	MaxConcurrency int
}

// LimitsChange is one change of the limits: the limits set and when.
type LimitsChange struct {
	At     time.Time
	Limits Limits
}

// Lock is an exclusive lock held in the store. Lost is closed when the lock
// can no longer be trusted (for example its database connection broke).
type Lock interface {
	Lost() <-chan struct{}
	Release(ctx context.Context) error
}

// WorkCounter is implemented by stores that count their works by status in
// one query; /metrics reads it at every scrape. It is apart from Store so
// that test fakes of Store need not implement it.
type WorkCounter interface {
	// CountWorks returns the number of works in each status that has any.
	CountWorks(ctx context.Context) (map[string]int64, error)
}

// Store is the whole persistent state. Every method is safe for concurrent use.
type Store interface {
	// CreateWork stores a new work with its first event (sequence 1) and sets
	// its projection to pending. It fails with ErrConflict if the id exists.
	CreateWork(ctx context.Context, created *messages.WorkCreated) error

	// Append adds events after sequence number after (the last one the caller
	// has seen) and numbers them after+1, after+2, ... . It fails with
	// ErrConflict, writing nothing, when the log's last sequence is not after.
	// A non-empty status updates the works projection in the same transaction.
	Append(ctx context.Context, workID string, after int64, status string, events ...*messages.Event) error

	// Events returns a work's log in sequence order, with Seq set. An unknown
	// work gives an empty slice and no error.
	Events(ctx context.Context, workID string) ([]*messages.Event, error)

	// Work returns one work's summary, or ErrNotFound.
	Work(ctx context.Context, workID string) (WorkSummary, error)

	// ListWorks returns works newest first.
	ListWorks(ctx context.Context, limit, offset int) ([]WorkSummary, error)

	// UnfinishedWorks returns the ids of works whose status is not terminal.
	UnfinishedWorks(ctx context.Context) ([]string, error)

	// CachedProfile returns the cached answer for a donor from a source.
	CachedProfile(ctx context.Context, source, donorID string) (CacheEntry, bool, error)

	// PutProfile stores or replaces a cached answer.
	PutProfile(ctx context.Context, e CacheEntry) error

	// Limits returns the stored limits, or ErrNotFound when none were stored.
	Limits(ctx context.Context) (Limits, error)

	// SetLimits stores the limits and records the change with its time.
	SetLimits(ctx context.Context, l Limits) error

	// LimitsHistory returns, oldest first, the change in force at from (the
	// last one at or before it), if the limits were set by then, and every
	// change after from up to and including to. Times are kept to the
	// millisecond; changes at the same millisecond keep their order.
	LimitsHistory(ctx context.Context, from, to time.Time) ([]LimitsChange, error)

	// PutBlob stores a file under a key that the program generated (never one
	// taken from user input).
	PutBlob(ctx context.Context, key, contentType string, data []byte) error

	// Blob returns a stored file and its content type, or ErrNotFound.
	Blob(ctx context.Context, key string) ([]byte, string, error)

	// LockBucket tries to take the token bucket's lock without waiting. It
	// returns nil and no error when another holder has it.
	LockBucket(ctx context.Context) (Lock, error)

	// Close releases the store's resources.
	Close() error
}
