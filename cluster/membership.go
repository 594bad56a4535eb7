package cluster

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/hashicorp/memberlist"
)

// publishEvery is how often the full member list is handed to the actor
// cluster even when gossip reported no change.
const publishEvery = time.Second

// memberMeta is what every member gossips about itself in memberlist's node
// metadata (512 bytes at most).
type memberMeta struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	ActorAddr string   `json:"actor"`
	HTTPAddr  string   `json:"http"`
	Kinds     []string `json:"kinds"`
	// Leaving is set by a member shutting down, just before it leaves, so
	// that the others tell a departure from a failure: memberlist's own
	// events do not.
	Leaving bool `json:"leaving,omitempty"`
}

// GossipName is a process's unique name in memberlist: the node name and
// the actor system's id.
func GossipName(nodeName, systemID string) string { return nodeName + "/" + systemID }

// MemberView is one member as the node saw it last.
type MemberView struct {
	Name       string
	GossipAddr string
	ActorAddr  string
	HTTPAddr   string
	Status     string
	ID         string
}

// membership is protoactor's ClusterProvider on hashicorp/memberlist: it
// gossips over a real socket and hands the full list of alive members to the
// actor cluster whenever it changes, and every second.
type membership struct {
	cfg  membershipConfig
	log  *slog.Logger
	meta []byte
	// gossipName is this process's name in memberlist.
	gossipName string

	ml      *memberlist.Memberlist
	members *pcluster.MemberList
	blocked *remote.BlockList
	// selfID is this process's actor system id.
	selfID  string
	changed chan struct{}
	// published is the sorted member ids of the last publication.
	published string
	stop      chan struct{}
	done      chan struct{}

	// blockedReported makes onBlocked run once per process id.
	blockedReported atomic.Bool

	mu   sync.Mutex
	seen map[string]MemberView // guarded by mu
}

type membershipConfig struct {
	name       string
	gossipAddr string
	httpAddr   string
	join       []string
	// onChange is called from the publishing goroutine whenever the set of
	// members changed, with the names of those that went away since the last
	// call (possibly none).
	onChange func(gone []string)
	// onBlocked is called, on a goroutine of its own, when another member
	// says it blocked this process's actor system id although memberlist
	// sees this process alive.
	onBlocked func(id string)
}

func newMembership(cfg membershipConfig, log *slog.Logger) *membership {
	return &membership{
		cfg:     cfg,
		log:     log,
		changed: make(chan struct{}, 1),
		seen:    map[string]MemberView{},
	}
}

// StartMember joins the gossip cluster; protoactor calls it from StartMember.
func (m *membership) StartMember(c *pcluster.Cluster) error {
	host, port, err := c.ActorSystem.GetHostPort()
	if err != nil {
		return fmt.Errorf("reading the actor address: %w", err)
	}
	meta := memberMeta{
		ID:        c.ActorSystem.ID,
		Name:      m.cfg.name,
		ActorAddr: net.JoinHostPort(host, strconv.Itoa(port)),
		HTTPAddr:  m.cfg.httpAddr,
		Kinds:     c.GetClusterKinds(),
	}
	m.gossipName = GossipName(m.cfg.name, c.ActorSystem.ID)
	if m.meta, err = json.Marshal(meta); err != nil {
		return fmt.Errorf("encoding member metadata: %w", err)
	}
	if len(m.meta) > memberlist.MetaMaxSize {
		return fmt.Errorf("member metadata is %d bytes, over memberlist's %d", len(m.meta), memberlist.MetaMaxSize)
	}

	m.members = c.MemberList
	m.blocked = c.Remote.BlockList()
	m.selfID = c.ActorSystem.ID
	if err := m.startGossip(); err != nil {
		return err
	}
	m.stop = make(chan struct{})
	m.done = make(chan struct{})
	m.publish()
	go m.loop()
	return nil
}

// StartClient is not used: every node is a full member.
func (m *membership) StartClient(*pcluster.Cluster) error {
	return fmt.Errorf("signalscrape nodes are always full members")
}

// Shutdown leaves the gossip cluster (announcing it when graceful) and stops
// the publishing goroutine.
func (m *membership) Shutdown(graceful bool) error {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
	if m.ml == nil {
		return nil
	}
	if graceful {
		m.announceLeaving()
		if err := m.ml.Leave(2 * time.Second); err != nil {
			m.log.Warn("leaving the gossip cluster", "err", err)
		}
	}
	err := m.ml.Shutdown()
	m.ml = nil
	return err
}

// announceLeaving gossips this member's metadata with Leaving set.
func (m *membership) announceLeaving() {
	var meta memberMeta
	m.mu.Lock()
	err := json.Unmarshal(m.meta, &meta)
	if err == nil {
		meta.Leaving = true
		m.meta, err = json.Marshal(meta)
	}
	m.mu.Unlock()
	if err == nil {
		err = m.ml.UpdateNode(time.Second)
	}
	if err != nil {
		m.log.Warn("announcing the departure", "err", err)
	}
}

func (m *membership) startGossip() error {
	host, portText, err := net.SplitHostPort(m.cfg.gossipAddr)
	if err != nil {
		return fmt.Errorf("gossip address %q: %w", m.cfg.gossipAddr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("gossip port %q: %w", portText, err)
	}

	// Local-network timing, a little quicker than memberlist's preset: a dead
	// member is declared within about three seconds, so its works resume
	// elsewhere well within ten.
	conf := memberlist.DefaultLocalConfig()
	conf.ProbeInterval = 500 * time.Millisecond
	conf.SuspicionMult = 2
	// The gossip name is unique per process, so that a member restarted under
	// the same node name joins as a new node at once instead of waiting to
	// refute its old incarnation's death.
	conf.Name = m.gossipName
	conf.BindAddr, conf.BindPort = host, port
	conf.AdvertiseAddr, conf.AdvertisePort = host, port
	conf.Delegate = m
	conf.Events = m
	conf.Logger = newStdLogger(m.log)

	if m.ml, err = memberlist.Create(conf); err != nil {
		return fmt.Errorf("starting gossip on %s: %w", m.cfg.gossipAddr, err)
	}
	if len(m.cfg.join) > 0 {
		if _, err := m.ml.Join(m.cfg.join); err != nil {
			m.log.Warn("joining the cluster; will keep gossiping alone until a seed answers", "seeds", m.cfg.join, "err", err)
		}
	}
	return nil
}

func (m *membership) loop() {
	defer close(m.done)
	t := time.NewTicker(publishEvery)
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-m.stop:
			return
		case <-m.changed:
		case <-t.C:
			if tick%rejoinEvery == 0 {
				m.rejoin()
			}
		}
		m.publish()
	}
}

// rejoinEvery is how many publications pass between attempts to join the
// seeds while this member is alone.
const rejoinEvery = 5

// rejoin joins the seeds again when this member is alone: a seed that was
// down when this member started, or a restarted seed, finds the others so.
func (m *membership) rejoin() {
	if len(m.cfg.join) == 0 || m.ml.NumMembers() > 1 {
		return
	}
	if n, err := m.ml.Join(m.cfg.join); err == nil {
		m.log.Info("joined the cluster", "contacted", n)
	}
}

// publish hands the complete list of alive members to the actor cluster. A
// list must never be partial: a member missing from one publication is
// blocked by protoactor for good.
func (m *membership) publish() {
	nodes := m.ml.Members()
	list := make(pcluster.Members, 0, len(nodes))
	for _, n := range nodes {
		var meta memberMeta
		if err := json.Unmarshal(n.Meta, &meta); err != nil {
			m.log.Warn("ignoring a member with unreadable metadata", "member", n.Name, "err", err)
			continue
		}
		host, portText, err := net.SplitHostPort(meta.ActorAddr)
		port, perr := strconv.Atoi(portText)
		if err != nil || perr != nil {
			m.log.Warn("ignoring a member with a bad actor address", "member", n.Name, "addr", meta.ActorAddr)
			continue
		}
		list = append(list, &pcluster.Member{Id: meta.ID, Host: host, Port: int32(port), Kinds: meta.Kinds})
		if meta.ID != m.selfID && m.blocked.IsBlocked(meta.ID) {
			m.tellBlocked(n, meta.ID)
		}
	}
	m.members.UpdateClusterTopology(list)

	ids := make([]string, len(list))
	for i, member := range list {
		ids[i] = member.Id
	}
	sort.Strings(ids)
	sig := strings.Join(ids, ",")
	if sig == m.published {
		return
	}
	m.published = sig
	if m.cfg.onChange != nil {
		m.cfg.onChange(m.takeGone())
	}
}

// takeGone returns the gossip names of the members that died or left since
// the last call.
func (m *membership) takeGone() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var gone []string
	for name, v := range m.seen {
		if v.Status == "dead" || v.Status == "left" {
			if v.ID != "" {
				gone = append(gone, name)
				v.ID = ""
				m.seen[name] = v
			}
		}
	}
	return gone
}

// Members returns every member seen since start, one per node name: the
// live process if there is one, else the last one seen.
func (m *membership) Members() []MemberView {
	suspect := map[string]bool{}
	if m.ml != nil {
		for _, n := range m.ml.Members() {
			if n.State == memberlist.StateSuspect {
				suspect[n.Name] = true
			}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	byName := map[string]MemberView{}
	for gossipName, v := range m.seen {
		if suspect[gossipName] && v.Status == "alive" {
			v.Status = "suspect"
		}
		if old, ok := byName[v.Name]; ok && old.Status == "alive" {
			continue
		}
		byName[v.Name] = v
	}
	out := make([]MemberView, 0, len(byName))
	for _, v := range byName {
		out = append(out, v)
	}
	return out
}

// note records what an event said of a node. memberlist calls the event
// methods under its own lock: copy what is needed and signal, nothing more.
func (m *membership) note(n *memberlist.Node, status string) {
	v := MemberView{Name: n.Name, GossipAddr: n.Address(), Status: status}
	var meta memberMeta
	if json.Unmarshal(n.Meta, &meta) == nil {
		v.Name, v.ActorAddr, v.HTTPAddr, v.ID = meta.Name, meta.ActorAddr, meta.HTTPAddr, meta.ID
	}
	if n.State == memberlist.StateLeft || meta.Leaving {
		v.Status = "left"
	}

	m.mu.Lock()
	old, known := m.seen[n.Name]
	if known && old.Status == "left" && v.Status == "dead" {
		v.Status = "left"
	}
	m.seen[n.Name] = v
	m.mu.Unlock()
	// A member that leaves is told of twice (its leaving flag, then its
	// departure): log a change of status once.
	switch {
	case known && old.Status == v.Status:
	case v.Status != "alive":
		m.log.Info("member gone", "member", v.Name, "status", v.Status)
	default:
		m.log.Info("member alive", "member", v.Name, "gossip_addr", v.GossipAddr)
	}

	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// NotifyJoin implements memberlist.EventDelegate.
func (m *membership) NotifyJoin(n *memberlist.Node) { m.note(n, "alive") }

// NotifyLeave implements memberlist.EventDelegate.
func (m *membership) NotifyLeave(n *memberlist.Node) { m.note(n, "dead") }

// NotifyUpdate implements memberlist.EventDelegate.
func (m *membership) NotifyUpdate(n *memberlist.Node) { m.note(n, "alive") }

// NodeMeta implements memberlist.Delegate.
func (m *membership) NodeMeta(int) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.meta
}

// blockedPrefix starts the gossip message that tells a member its actor
// system id is blocked; the id follows.
const blockedPrefix = "signalscrape/blocked "

// tellBlocked tells an alive member that this one blocked its actor system
// id, so that it rejoins under a new one. n is copied before the send
// leaves the caller, since memberlist owns it.
func (m *membership) tellBlocked(n *memberlist.Node, id string) {
	to := *n
	ml := m.ml
	go func() {
		if err := ml.SendReliable(&to, []byte(blockedPrefix+id)); err != nil {
			m.log.Debug("telling a member it is blocked", "member", to.Name, "err", err)
		}
	}()
}

// NotifyMsg implements memberlist.Delegate: the only message is the one
// tellBlocked sends.
func (m *membership) NotifyMsg(msg []byte) {
	id, ok := strings.CutPrefix(string(msg), blockedPrefix)
	if !ok || id != m.selfID || m.cfg.onBlocked == nil {
		return
	}
	if m.blockedReported.CompareAndSwap(false, true) {
		go m.cfg.onBlocked(id)
	}
}

// GetBroadcasts implements memberlist.Delegate; nothing is broadcast.
func (m *membership) GetBroadcasts(int, int) [][]byte { return nil }

// LocalState implements memberlist.Delegate; there is no state to push.
func (m *membership) LocalState(bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate.
func (m *membership) MergeRemoteState([]byte, bool) {}
