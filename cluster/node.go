// Package cluster starts and stops a signalscrape node: the actor system,
// its remote, protoactor's cluster on a memberlist ClusterProvider, the task
// host and the recovery sweep; Node also serves the HTTP API's Backend.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/signalscrape/signalscrape/actors"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/source"
)

// Config is what a node needs. Zero tuning fields in Actors take defaults.
type Config struct {
	NodeName   string
	GossipAddr string
	ActorAddr  string
	HTTPAddr   string
	Join       []string

	Store  persistence.Store
	Source source.Source
	Logger *slog.Logger
	// FrameworkLevel is the lowest level of protoactor's own logs that reach
	// Logger.
	FrameworkLevel slog.Level
	// Actors holds the actors' tuning (limits, window, retries); Store, Source,
	// Logger and the cluster are filled in by Start.
	Actors actors.Deps
	// Metrics, when set, is the registry the node's metrics are added to;
	// the caller serves it. Pass a registry of this node's own.
	Metrics prometheus.Registerer
}

// Node is one running member. Its methods are safe for concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	system  *actor.ActorSystem
	cluster *pcluster.Cluster
	members *membership
	deps    *actors.Deps
	metrics *nodeMetrics

	sweep chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

// Start brings a node up and returns once it is a member of its cluster.
func Start(cfg Config) (*Node, error) {
	host, port, err := splitAddr(cfg.ActorAddr)
	if err != nil {
		return nil, fmt.Errorf("actor address: %w", err)
	}
	if err := checkFree(cfg.ActorAddr); err != nil {
		return nil, err
	}

	n := &Node{cfg: cfg, log: cfg.Logger, sweep: make(chan struct{}, 1), stop: make(chan struct{})}
	n.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(levelFilter{Handler: cfg.Logger.Handler(), min: cfg.FrameworkLevel}).With("component", "protoactor")
	}))
	n.metrics = newNodeMetrics()
	n.deps = n.newDeps()
	n.members = newMembership(membershipConfig{
		name:       cfg.NodeName,
		gossipAddr: cfg.GossipAddr,
		httpAddr:   cfg.HTTPAddr,
		join:       cfg.Join,
		onChange:   n.membershipChanged,
	}, cfg.Logger)

	kinds := []*pcluster.Kind{
		pcluster.NewKind(actors.WorkKind, actors.NewWorkProps(n.deps)),
		pcluster.NewKind(actors.BucketKind, actors.NewBucketProps(n.deps)),
	}
	remoteCfg := remote.Configure(host, port)
	clusterCfg := pcluster.Configure("signalscrape", n.members, disthash.New(), remoteCfg, pcluster.WithKinds(kinds...))
	n.cluster = pcluster.New(n.system, clusterCfg)
	n.deps.Cluster = n.cluster
	n.deps.Permits = actors.NewPermits(n.cluster, GossipName(cfg.NodeName, n.system.ID), n.deps.LeaseTTL, cfg.Logger)

	if _, err := n.system.Root.SpawnNamed(actors.NewTaskHostProps(n.deps), actors.TaskHostName); err != nil {
		return nil, fmt.Errorf("starting the task host: %w", err)
	}
	if err := n.startMember(); err != nil {
		return nil, err
	}
	n.deps.Permits.Start()

	n.wg.Add(1)
	go n.sweepLoop()
	n.requestSweep()
	if cfg.Metrics != nil {
		if err := n.metrics.register(cfg.Metrics, n); err != nil {
			n.Stop()
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	n.log.Info("node started", "member", cfg.NodeName, "gossip_addr", cfg.GossipAddr, "actor_addr", cfg.ActorAddr)
	return n, nil
}

func (n *Node) newDeps() *actors.Deps {
	d := n.cfg.Actors
	d.Store = timedStore{Store: n.cfg.Store, seconds: n.metrics.appendSeconds}
	d.Metrics = n.metrics
	d.Source = n.cfg.Source
	d.Logger = n.cfg.Logger
	d.Member = n.cfg.NodeName
	d.WithDefaults()
	return &d
}

// startMember runs protoactor's StartMember, which panics on failure.
func (n *Node) startMember() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("joining the actor cluster: %v", r)
		}
	}()
	n.cluster.StartMember()
	return nil
}

// Stop leaves the cluster and stops the node's actors and goroutines.
func (n *Node) Stop() {
	close(n.stop)
	n.wg.Wait()
	n.deps.Permits.Stop()
	n.cluster.Shutdown(true)
	n.log.Info("node stopped", "member", n.cfg.NodeName)
}

// membershipChanged runs after every change of the member list: it tells
// the token bucket which members went away and starts a sweep, because works
// owned by a lost member, or moved to a new one, need waking.
func (n *Node) membershipChanged(gone []string) {
	for _, name := range gone {
		go func() {
			_, err := actors.Request(n.cluster, actors.BucketIdentity, actors.BucketKind, &messages.MemberGone{Member: name}, 2*time.Second)
			if err != nil {
				n.log.Debug("telling the bucket of a gone member", "member", name, "err", err)
			}
		}()
	}
	n.requestSweep()
}

func (n *Node) requestSweep() {
	select {
	case n.sweep <- struct{}{}:
	default:
	}
}

// sweepLoop wakes every unfinished work after start and after every
// membership change, so that no work stays orphaned by a lost member.
func (n *Node) sweepLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case <-n.sweep:
		}
		// Let the topology settle before activations are placed.
		select {
		case <-n.stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
		n.sweepOnce()
	}
}

func (n *Node) sweepOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	ids, err := n.cfg.Store.UnfinishedWorks(ctx)
	cancel()
	if err != nil {
		n.log.Warn("listing unfinished works", "err", err)
		return
	}
	for _, id := range ids {
		if _, err := actors.Request(n.cluster, id, actors.WorkKind, &messages.WakeWork{}, 5*time.Second); err != nil {
			n.log.Warn("waking a work; the next sweep tries again", "work_id", id, "err", err)
		}
	}
}

func splitAddr(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", portText, err)
	}
	return host, port, nil
}

// checkFree fails when addr cannot be listened on, because protoactor's
// remote panics in that case instead of returning an error.
func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("actor address %s: %w", addr, err)
	}
	return l.Close()
}

var errNotReady = errors.New("node not ready")
