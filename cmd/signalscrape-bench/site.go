package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/source/mocksignal"
)

// startWait bounds how long a process may take to answer after its start.
const startWait = 60 * time.Second

// mock is a running mock-signal that synthesises a profile for every donor
// id and logs every request.
type mock struct {
	*proc
	addr string
	log  string
}

// startMock starts mock-signal on an empty profiles directory with
// --synthesize, answering after latency ("0s" for at once).
func (l *lab) startMock(latency string) (*mock, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	profiles, err := os.MkdirTemp(l.dir, "profiles-")
	if err != nil {
		return nil, fmt.Errorf("making the profiles directory: %w", err)
	}
	logPath := filepath.Join(l.dir, fmt.Sprintf("requests-%02d.jsonl", l.serial+1))
	p, err := l.start("mock-signal", "mock-signal", "--addr", addr, "--profiles", profiles,
		"--log", logPath, "--synthesize", "--latency", latency)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(p, "http://"+addr+"/", startWait); err != nil {
		return nil, err
	}
	return &mock{proc: p, addr: addr, log: logPath}, nil
}

// report checks the politeness of the /sample/ requests logged so far.
func (m *mock) report(minGap time.Duration, maxConcurrency int) (mocksignal.Report, error) {
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		return mocksignal.Report{}, err
	}
	return mocksignal.CheckPoliteness(entries, minGap, maxConcurrency)
}

// meanGap is the mean time between the starts of the /sample/ requests
// logged so far.
func (m *mock) meanGap() (time.Duration, error) {
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		return 0, err
	}
	first, last, n := int64(0), int64(0), 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Path, "/sample/") {
			continue
		}
		if n == 0 || e.StartUnixNano < first {
			first = e.StartUnixNano
		}
		last = max(last, e.StartUnixNano)
		n++
	}
	if n < 2 {
		return 0, nil
	}
	return time.Duration((last - first) / int64(n-1)), nil
}

// requests counts the /sample/ requests logged so far.
func (m *mock) requests() (int, error) {
	r, err := m.report(0, 0)
	return r.Requests, err
}

// limits are the politeness limits the nodes start with.
type limits struct {
	minGap, maxGap time.Duration
	concurrency    int
}

// meanGap is the mean of the random gap.
func (l limits) meanGap() time.Duration { return (l.minGap + l.maxGap) / 2 }

// node is a running signalscrape serve.
type node struct {
	*proc
	name   string
	http   string
	client *client.Client
}

// nodeSpec is what differs between the nodes of a benchmark.
type nodeSpec struct {
	name        string
	databaseURL string
	gossip      string
	join        []string
	limits      limits
}

// startNode starts a node against m: on PostgreSQL when spec names a
// database, else on an embedded store in a new directory.
func (l *lab) startNode(m *mock, spec nodeSpec) (*node, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	actorAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if spec.gossip == "" {
		if spec.gossip, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	args := []string{"serve", "--node-name", spec.name,
		"--http-addr", httpAddr, "--gossip-addr", spec.gossip, "--actor-addr", actorAddr,
		"--source", "http", "--source-url", "http://" + m.addr + "/sample/{id}.csv",
		"--min-interval", spec.limits.minGap.String(), "--max-interval", spec.limits.maxGap.String(),
		"--max-concurrency", strconv.Itoa(spec.limits.concurrency),
		"--retry-base", "20ms", "--lease-ttl", "2s", "--log-level", "warn",
		"--max-upload-bytes", strconv.Itoa(200 << 20),
	}
	if spec.databaseURL != "" {
		args = append(args, "--database-url", spec.databaseURL)
	} else {
		dir, err := os.MkdirTemp(l.dir, "data-")
		if err != nil {
			return nil, fmt.Errorf("making a data directory: %w", err)
		}
		args = append(args, "--data-dir", dir)
	}
	if len(spec.join) > 0 {
		args = append(args, "--join", strings.Join(spec.join, ","))
	}
	return l.launch(spec.name, httpAddr, args)
}

// launch starts a node with args and waits until it is ready.
func (l *lab) launch(name, httpAddr string, args []string) (*node, error) {
	p, err := l.start(name, args...)
	if err != nil {
		return nil, err
	}
	c, err := client.New("http://" + httpAddr)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(p, "http://"+httpAddr+"/readyz", startWait); err != nil {
		return nil, err
	}
	return &node{proc: p, name: name, http: httpAddr, client: c}, nil
}

// startCluster starts n members on one PostgreSQL database, each naming the
// others as seeds, and waits until the first sees them all alive.
func (l *lab) startCluster(m *mock, databaseURL string, n int, lim limits) ([]*node, error) {
	gossip := make([]string, n)
	for i := range gossip {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		gossip[i] = addr
	}
	var nodes []*node
	for i := range n {
		var seeds []string
		for j, addr := range gossip {
			if j != i {
				seeds = append(seeds, addr)
			}
		}
		spec := nodeSpec{name: fmt.Sprintf("m%d", i+1), databaseURL: databaseURL, gossip: gossip[i], join: seeds, limits: lim}
		nd, err := l.startNode(m, spec)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, nd)
	}
	if err := waitMembers(nodes[0], n); err != nil {
		return nil, err
	}
	return nodes, nil
}

// waitMembers waits until nd sees want members alive.
func waitMembers(nd *node, want int) error {
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		info, err := nd.client.Cluster(ctx)
		cancel()
		if err == nil && countAlive(info) >= want {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not see %d members alive within %s", nd.name, want, startWait)
}

func countAlive(info *client.ClusterInfo) int {
	n := 0
	for _, m := range info.Members {
		if m.Status == "alive" {
			n++
		}
	}
	return n
}
