package actors

import "sync/atomic"

// Stats counts what one member's actors did. All fields are safe for
// concurrent use.
type Stats struct {
	// TasksRun counts the task actors this member's task host started.
	TasksRun atomic.Int64
}
