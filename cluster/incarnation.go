package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/signalscrape/signalscrape/actors"
)

// incarnation is one life of a node's actor system: its id, remote, cluster,
// gossip membership, task host and permits. A node replaces its incarnation
// when the other members blocked it while it was alive.
type incarnation struct {
	system   *actor.ActorSystem
	cluster  *pcluster.Cluster
	members  *membership
	deps     *actors.Deps
	taskHost *actor.PID
	stopOnce sync.Once
}

// startIncarnation starts a fresh actor system with a new id and joins the
// cluster with it.
func (n *Node) startIncarnation() (*incarnation, error) {
	host, port, err := splitAddr(n.cfg.ActorAddr)
	if err != nil {
		return nil, fmt.Errorf("actor address: %w", err)
	}
	if err := checkFree(n.cfg.ActorAddr); err != nil {
		return nil, err
	}

	inc := &incarnation{deps: n.newDeps()}
	inc.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(levelFilter{Handler: n.log.Handler(), min: n.cfg.FrameworkLevel}).With("component", "protoactor")
	}))
	inc.members = newMembership(membershipConfig{
		name:       n.cfg.NodeName,
		gossipAddr: n.cfg.GossipAddr,
		httpAddr:   n.cfg.HTTPAddr,
		join:       n.cfg.Join,
		onChange:   n.membershipChanged,
		onBlocked:  n.blockedWhileAlive,
	}, n.log)

	kinds := []*pcluster.Kind{
		pcluster.NewKind(actors.WorkKind, actors.NewWorkProps(inc.deps)),
		pcluster.NewKind(actors.BucketKind, actors.NewBucketProps(inc.deps)),
	}
	clusterCfg := pcluster.Configure("signalscrape", inc.members, disthash.New(), remote.Configure(host, port), pcluster.WithKinds(kinds...))
	inc.cluster = pcluster.New(inc.system, clusterCfg)
	inc.deps.Cluster = inc.cluster
	inc.deps.Permits = actors.NewPermits(inc.cluster, GossipName(n.cfg.NodeName, inc.system.ID), inc.deps.LeaseTTL, n.log)

	if inc.taskHost, err = inc.system.Root.SpawnNamed(actors.NewTaskHostProps(inc.deps), actors.TaskHostName); err != nil {
		return nil, fmt.Errorf("starting the task host: %w", err)
	}
	if err := startMember(inc.cluster); err != nil {
		return nil, err
	}
	inc.deps.Permits.Start()
	return inc, nil
}

// newDeps fills the actors' dependencies from the node's configuration; the
// stats are the node's, so that counts survive a new incarnation.
func (n *Node) newDeps() *actors.Deps {
	d := n.cfg.Actors
	d.Store = timedStore{Store: n.cfg.Store, seconds: n.metrics.appendSeconds}
	d.Metrics = n.metrics
	d.Source = n.cfg.Source
	d.Logger = n.log
	d.Member = n.cfg.NodeName
	d.Stats = n.stats
	d.WithDefaults()
	return &d
}

// startMember runs protoactor's StartMember, which panics on failure.
func startMember(c *pcluster.Cluster) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("joining the actor cluster: %v", r)
		}
	}()
	c.StartMember()
	return nil
}

// stop ends the incarnation, once: its task actors first, so that no fetch runs
// on after it, then its permits and its cluster membership, leaving the
// gossip cluster gracefully so the others see it leave rather than fail.
func (inc *incarnation) stop() {
	inc.stopOnce.Do(inc.shutdown)
}

func (inc *incarnation) shutdown() {
	if err := inc.system.Root.StopFuture(inc.taskHost).Wait(); err != nil {
		inc.deps.Logger.Warn("stopping the task host", "err", err)
	}
	inc.deps.Permits.Stop()
	inc.cluster.Shutdown(true)
}

// restartDelay is the pause between attempts to start a new incarnation,
// when the old one's ports are not free yet.
const restartDelay = time.Second

// handBackWait bounds how long a stopping member waits for its tasks to
// return their permits.
const handBackWait = 5 * time.Second

// handBack stops the incarnation's task actors while the cluster still runs:
// their fetches are cancelled, their permits returned, and their works
// dispatch them again on the members that stay.
func (inc *incarnation) handBack(log *slog.Logger) {
	if _, err := inc.system.Root.RequestFuture(inc.taskHost, &actors.HandBack{}, handBackWait).Result(); err != nil {
		log.Warn("stopping the tasks", "err", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), handBackWait)
	defer cancel()
	if err := inc.deps.WaitTasks(ctx); err != nil {
		log.Warn("handing tasks back; their permits expire instead", "err", err)
	}
}
