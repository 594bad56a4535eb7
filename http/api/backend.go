package api

import (
	"context"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// Backend is what the API needs from a node: the store and the actors. The
// node (package cluster) implements it; tests may fake it.
type Backend interface {
	// Store is the node's store, for works listings and stored files.
	Store() persistence.Store

	// SourceKey names the upstream source new works fetch from.
	SourceKey() string

	// SourceProblem returns why this node's upstream source cannot fetch
	// (such as no Chromium for the browser source), or nil when it can.
	SourceProblem() error

	// SubmitWork stores the original upload under created.UploadBlob, then the
	// work's first event, then starts the work. The work is accepted once this
	// returns nil, even if starting it failed (a recovery sweep starts it).
	SubmitWork(ctx context.Context, created *messages.WorkCreated, original []byte) error

	// Status asks the work for its status; Found is false for an unknown work.
	Status(ctx context.Context, workID string) (*messages.WorkStatus, error)

	// Cancel stops a work; Found is false for an unknown work, and Error is set
	// when it had already finished.
	Cancel(ctx context.Context, workID string) (*messages.WorkStatus, error)

	// Limits returns the limits in force.
	Limits(ctx context.Context) (persistence.Limits, error)

	// InitialLimits returns the limits the node was started with, which are
	// in force while the store holds none.
	InitialLimits() persistence.Limits

	// SetLimits stores new limits and applies them cluster-wide.
	SetLimits(ctx context.Context, l persistence.Limits) (persistence.Limits, error)

	// Cluster describes the members and the token bucket.
	Cluster(ctx context.Context) (ClusterInfo, error)

	// Ready returns nil when the node can take work, or why not.
	Ready(ctx context.Context) error
}

// ClusterInfo is the body of GET /admin/cluster.
type ClusterInfo struct {
	Members     []Member   `json:"members"`
	TokenBucket BucketInfo `json:"token_bucket"`
}

// Member is one cluster member as GET /admin/cluster shows it.
type Member struct {
	Name       string `json:"name"`
	GossipAddr string `json:"gossip_addr"`
	ActorAddr  string `json:"actor_addr"`
	HTTPAddr   string `json:"http_addr"`
	Status     string `json:"status"`
	Tasks      int64  `json:"tasks_run"`
}

// BucketInfo is the token bucket as GET /admin/cluster shows it. Limits are
// those the bucket applies now, which a change reaches within a second.
type BucketInfo struct {
	Member       string     `json:"member"`
	InFlight     int64      `json:"in_flight"`
	GrantedTotal int64      `json:"granted_total"`
	Queued       int64      `json:"queued"`
	Limits       limitsJSON `json:"limits"`
}

// NewBucketInfo describes a token bucket that applies limits.
func NewBucketInfo(member string, inFlight, granted, queued int64, limits persistence.Limits) BucketInfo {
	return BucketInfo{Member: member, InFlight: inFlight, GrantedTotal: granted, Queued: queued, Limits: limitsBody(limits)}
}
