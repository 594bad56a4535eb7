package actors

import "sync/atomic"

// Stats counts what one member's actors did. All fields are safe for
// concurrent use.
type Stats struct {
	TasksRun       atomic.Int64
	CacheHits      atomic.Int64
	Fetches        atomic.Int64
	FetchOK        atomic.Int64
	FetchNotFound  atomic.Int64
	FetchThrottled atomic.Int64
	FetchInvalid   atomic.Int64
	FetchFailed    atomic.Int64
}
