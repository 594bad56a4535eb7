// Package source fetches donor profiles from upstream: the SIGNAL site or its
// stand-in. A Source performs exactly one upstream request per Fetch; retries,
// permits and validation are the caller's.
package source

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound means the site does not know the donor. It is final.
var ErrNotFound = errors.New("donor unknown to the site")

// ErrUnavailable means the source cannot work on this node at all (for
// example no browser is installed); the task should wait, not fail.
var ErrUnavailable = errors.New("source unavailable")

// ThrottledError means the site asked to slow down (429 or 503). Until is when
// the site may be asked again, cluster-wide.
type ThrottledError struct {
	Status int
	Until  time.Time
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("site throttled with status %d until %s", e.Status, e.Until.Format(time.RFC3339))
}

// Result is one fetched body, not yet validated.
type Result struct {
	Body []byte
	URL  string
	// Evidence is what a person may look at after a failure (a screenshot or
	// the page's HTML); it may be nil.
	Evidence *Evidence
}

// Evidence is a file kept from a failed step.
type Evidence struct {
	ContentType string
	Data        []byte
}

// FetchError wraps a failed fetch with its evidence, if any.
type FetchError struct {
	Err      error
	Evidence *Evidence
	// Page is the HTML of the page a browser step failed on, kept beside
	// the screenshot in Evidence; nil for other failures.
	Page *Evidence
}

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Source fetches one donor's profile body. Errors are ErrNotFound,
// *ThrottledError, ErrUnavailable or anything else, which is retried.
type Source interface {
	// Key names the source for the profile cache: answers of one key are
	// interchangeable.
	Key() string
	Fetch(ctx context.Context, donorID string) (Result, error)
}
