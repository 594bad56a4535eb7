// Package actors holds the actors of signalscrape: the Work grain (one per
// upload), the task actors it supervises (one per distinct donor), the task
// host that runs them on every member, and the TokenBucket grain that grants
// upstream request permits cluster-wide.
package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/source"
)

// Names under which the actors are known in the cluster.
const (
	// WorkKind is the grain kind of works; the identity is the work id.
	WorkKind = "work"
	// BucketKind is the grain kind of the token bucket.
	BucketKind = "tokenbucket"
	// BucketIdentity is the one identity of the token bucket.
	BucketIdentity = "global"
	// TaskHostName is the name of the task host actor on every member.
	TaskHostName = "tasks"
)

// Deps is what the actors of one member share. Cluster is set once the
// member's cluster exists and before any actor runs.
type Deps struct {
	Store   persistence.Store
	Source  source.Source
	Logger  *slog.Logger
	Member  string
	Cluster *pcluster.Cluster
	Permits *Permits

	// DefaultLimits apply while none are stored.
	DefaultLimits persistence.Limits
	// LeaseTTL is how long a permit lives without renewal.
	LeaseTTL time.Duration
	// TaskWindow is how many tasks of one work run at once.
	TaskWindow int
	// MaxAttempts bounds the upstream attempts per donor and work.
	MaxAttempts int
	// RetryBase and RetryMax shape the exponential backoff between attempts.
	RetryBase time.Duration
	RetryMax  time.Duration
	// FetchTimeout bounds one upstream request.
	FetchTimeout time.Duration
	// BreakerFailures is how many failed requests in a row open the token
	// bucket's circuit breaker; BreakerCooldown is how long it then waits
	// before it lets one probe through.
	BreakerFailures int
	BreakerCooldown time.Duration
	// NotFoundTTL is how long a "donor unknown to the site" answer is cached.
	NotFoundTTL time.Duration
	// Stats counts what this member did, for /admin/cluster and /metrics.
	Stats *Stats
	// Metrics receives what the actors measure; nil measures nothing.
	Metrics Metrics

	// running counts this member's task goroutines.
	running *sync.WaitGroup
}

// WithDefaults fills unset fields with the production defaults.
func (d *Deps) WithDefaults() {
	if d.LeaseTTL <= 0 {
		d.LeaseTTL = 5 * time.Second
	}
	if d.TaskWindow <= 0 {
		d.TaskWindow = 128
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 5
	}
	if d.RetryBase <= 0 {
		d.RetryBase = time.Second
	}
	if d.RetryMax <= 0 {
		d.RetryMax = time.Minute
	}
	if d.FetchTimeout <= 0 {
		d.FetchTimeout = 60 * time.Second
	}
	if d.BreakerFailures <= 0 {
		d.BreakerFailures = 5
	}
	if d.BreakerCooldown <= 0 {
		d.BreakerCooldown = 30 * time.Second
	}
	if d.NotFoundTTL <= 0 {
		d.NotFoundTTL = 7 * 24 * time.Hour
	}
	if d.Stats == nil {
		d.Stats = &Stats{}
	}
	if d.running == nil {
		d.running = &sync.WaitGroup{}
	}
}

// WaitTasks waits until every task goroutine of the member has ended, and
// so returned its permit, or until ctx ends. Stop the task host first.
func (d *Deps) WaitTasks(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the tasks to end: %w", ctx.Err())
	}
}
