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
	stats   *actors.Stats
	metrics *nodeMetrics

	// mu guards cur, which a rejoin replaces; restarting serialises rejoins.
	mu         sync.RWMutex
	cur        *incarnation
	restarting sync.Mutex

	sweep chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

// Start brings a node up and returns once it is a member of its cluster.
func Start(cfg Config) (*Node, error) {
	n := &Node{cfg: cfg, log: cfg.Logger, sweep: make(chan struct{}, 1), stop: make(chan struct{})}
	n.stats = cfg.Actors.Stats
	if n.stats == nil {
		n.stats = &actors.Stats{}
	}
	n.metrics = newNodeMetrics()
	inc, err := n.startIncarnation()
	if err != nil {
		return nil, err
	}
	n.cur = inc

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

// current returns the running incarnation.
func (n *Node) current() *incarnation {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.cur
}

// Stop hands the member's tasks back, leaves the cluster and stops the
// node's actors and goroutines.
func (n *Node) Stop() {
	close(n.stop)
	n.restarting.Lock()
	defer n.restarting.Unlock()
	n.wg.Wait()
	inc := n.current()
	inc.handBack(n.log)
	inc.stop()
	n.log.Info("node stopped", "member", n.cfg.NodeName)
}

// blockedWhileAlive runs when another member reports that it blocked this
// member's actor system although memberlist sees it alive, as happens after
// a pause longer than failure detection. protoactor never lifts such a
// block, so the node leaves and comes back under a new actor system id.
func (n *Node) blockedWhileAlive(id string) {
	n.restarting.Lock()
	defer n.restarting.Unlock()
	old := n.current()
	if old.system.ID != id || n.stopping() {
		return
	}
	n.log.Warn("the cluster blocked this member while it is alive; rejoining under a new actor system id", "member", n.cfg.NodeName, "old_id", id)
	old.stop()

	for !n.stopping() {
		inc, err := n.startIncarnation()
		if err == nil {
			n.mu.Lock()
			n.cur = inc
			n.mu.Unlock()
			n.log.Info("rejoined the cluster", "member", n.cfg.NodeName, "id", inc.system.ID)
			n.requestSweep()
			return
		}
		n.log.Warn("starting a new actor system; trying again", "err", err)
		time.Sleep(restartDelay)
	}
}

func (n *Node) stopping() bool {
	select {
	case <-n.stop:
		return true
	default:
		return false
	}
}

// membershipChanged runs after every change of the member list: it tells
// the token bucket which members went away and starts a sweep, because works
// owned by a lost member, or moved to a new one, need waking.
func (n *Node) membershipChanged(gone []string) {
	for _, name := range gone {
		go func() {
			_, err := actors.Request(n.current().cluster, actors.BucketIdentity, actors.BucketKind, &messages.MemberGone{Member: name}, 2*time.Second)
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
		if _, err := actors.Request(n.current().cluster, id, actors.WorkKind, &messages.WakeWork{}, 5*time.Second); err != nil {
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
