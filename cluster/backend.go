package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/signalscrape/signalscrape/actors"
	"github.com/signalscrape/signalscrape/http/api"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// requestTimeout bounds the node's requests to grains on behalf of the API.
const requestTimeout = 10 * time.Second

// askAttempt bounds one attempt of the API's questions to a work. A question
// sent to a member that has just died is never answered; the next attempt,
// once the member list has dropped it, reaches the work's new activation.
const askAttempt = 2 * time.Second

var _ api.Backend = (*Node)(nil)

// Store returns the node's store.
func (n *Node) Store() persistence.Store { return n.cfg.Store }

// SourceKey names the node's upstream source.
func (n *Node) SourceKey() string { return n.cfg.Source.Key() }

// SourceProblem returns why the node's source cannot fetch, or nil.
func (n *Node) SourceProblem() error {
	if a, ok := n.cfg.Source.(interface{ Available() error }); ok {
		return a.Available()
	}
	return nil
}

// SubmitWork stores the upload and the work's first event, then wakes it.
// It holds on to neither once they are stored, so that a large upload can be
// collected while the work replays it.
func (n *Node) SubmitWork(ctx context.Context, created *messages.WorkCreated, original []byte) error {
	id := created.Idwork
	if err := n.cfg.Store.PutBlob(ctx, created.UploadBlob, "text/csv", original); err != nil {
		return fmt.Errorf("storing the upload: %w", err)
	}
	if err := n.cfg.Store.CreateWork(ctx, created); err != nil {
		return fmt.Errorf("storing the work: %w", err)
	}

	if _, err := actors.Request(n.current().cluster, id, actors.WorkKind, &messages.WakeWork{}, requestTimeout); err != nil {
		n.log.Warn("starting a work; the recovery sweep will", "work_id", id, "err", err)
		n.requestSweep()
	}
	return nil
}

// Status asks the work for its status.
func (n *Node) Status(ctx context.Context, workID string) (*messages.WorkStatus, error) {
	return n.askWork(ctx, workID, &messages.GetStatus{})
}

// Cancel asks the work to stop.
func (n *Node) Cancel(ctx context.Context, workID string) (*messages.WorkStatus, error) {
	return n.askWork(ctx, workID, &messages.CancelWork{})
}

// askWork sends an idempotent question to a work, again after each attempt
// that timed out, until requestTimeout has passed or ctx ends.
func (n *Node) askWork(ctx context.Context, workID string, msg any) (*messages.WorkStatus, error) {
	deadline := time.Now().Add(requestTimeout)
	var res any
	var err error
	for {
		wait := min(askAttempt, time.Until(deadline))
		res, err = actors.Request(n.current().cluster, workID, actors.WorkKind, msg, wait)
		if !errors.Is(err, actor.ErrTimeout) || time.Until(deadline) <= 0 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("asking work %s: %w", workID, err)
	}
	st, ok := res.(*messages.WorkStatus)
	if !ok {
		return nil, fmt.Errorf("asking work %s: unexpected answer %T", workID, res)
	}
	return st, nil
}

// InitialLimits returns the limits of the node's flags.
func (n *Node) InitialLimits() persistence.Limits { return n.current().deps.DefaultLimits }

// Limits returns the stored limits, or the node's initial ones.
func (n *Node) Limits(ctx context.Context) (persistence.Limits, error) {
	l, err := n.cfg.Store.Limits(ctx)
	if errors.Is(err, persistence.ErrNotFound) {
		return n.InitialLimits(), nil
	}
	return l, err
}

// SetLimits stores the limits and tells the token bucket at once; were the
// message lost, the bucket rereads the store within seconds.
func (n *Node) SetLimits(ctx context.Context, l persistence.Limits) (persistence.Limits, error) {
	if err := n.cfg.Store.SetLimits(ctx, l); err != nil {
		return persistence.Limits{}, fmt.Errorf("storing the limits: %w", err)
	}
	msg := &messages.SetBucketLimits{Limits: actors.LimitsMessage(l)}
	if _, err := actors.Request(n.current().cluster, actors.BucketIdentity, actors.BucketKind, msg, 3*time.Second); err != nil {
		n.log.Warn("telling the token bucket of new limits; it rereads them shortly", "err", err)
	}
	n.log.Info("limits set", "min_interval", l.MinInterval, "max_interval", l.MaxInterval, "max_concurrency", l.MaxConcurrency)
	return l, nil
}

// Cluster describes the members and the token bucket.
func (n *Node) Cluster(context.Context) (api.ClusterInfo, error) {
	views := n.current().members.Members()
	sort.Slice(views, func(i, j int) bool { return views[i].Name < views[j].Name })
	info := api.ClusterInfo{Members: make([]api.Member, 0, len(views))}
	for _, v := range views {
		info.Members = append(info.Members, api.Member{
			Name: v.Name, GossipAddr: v.GossipAddr, ActorAddr: v.ActorAddr, HTTPAddr: v.HTTPAddr, Status: v.Status,
		})
	}
	n.addTaskCounts(info.Members)

	res, err := actors.Request(n.current().cluster, actors.BucketIdentity, actors.BucketKind, &messages.GetBucket{}, 3*time.Second)
	if err != nil {
		return info, fmt.Errorf("asking the token bucket: %w", err)
	}
	if b, ok := res.(*messages.BucketInfo); ok {
		info.TokenBucket = api.NewBucketInfo(b.Member, b.InFlight, b.GrantedTotal, b.Queued, actors.LimitsFromMessage(b.Limits))
	}
	return info, nil
}

// addTaskCounts asks every alive member's task host how many tasks it ran.
func (n *Node) addTaskCounts(members []api.Member) {
	for i := range members {
		if members[i].Status != "alive" || members[i].ActorAddr == "" {
			continue
		}
		host := actor.NewPID(members[i].ActorAddr, actors.TaskHostName)
		res, err := n.current().system.Root.RequestFuture(host, &messages.GetHostStats{}, time.Second).Result()
		if st, ok := res.(*messages.HostStats); ok && err == nil {
			members[i].Tasks = st.TasksRun
		}
	}
}

// Ready reports whether the node can take work.
func (n *Node) Ready(context.Context) error {
	if n.current().cluster.MemberList.Length() == 0 {
		return fmt.Errorf("%w: not yet a cluster member", errNotReady)
	}
	if err := n.SourceProblem(); err != nil {
		return fmt.Errorf("%w: %w", errNotReady, err)
	}
	return nil
}
