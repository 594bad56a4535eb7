package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
)

// bench runs the scenarios and collects their figures.
type bench struct {
	cfg config
	lab *lab
	pg  *pgtest.Server
	t   *table
	log *slog.Logger
}

// database returns a new, empty PostgreSQL database, starting the private
// server on first use.
func (b *bench) database() (string, error) {
	if b.pg == nil {
		srv, err := pgtest.Start(context.Background(), func(string, ...any) {})
		if err != nil {
			return "", fmt.Errorf("starting PostgreSQL: %w", err)
		}
		b.pg = srv
	}
	return b.pg.NewDatabase(context.Background())
}

// close stops every process and the PostgreSQL server.
func (b *bench) close() {
	b.lab.stopAll()
	if b.pg != nil {
		b.pg.Stop()
	}
}

// Politeness fidelity: the limits of the issue, 3 members on PostgreSQL.
var politeLimits = limits{minGap: 20 * time.Millisecond, maxGap: 60 * time.Millisecond, concurrency: 2}

// politeness measures one run as is and one with kill -9 of the member
// hosting the token bucket half way.
func (b *bench) politeness() {
	for _, kill := range []bool{false, true} {
		setup := fmt.Sprintf("3 members, PostgreSQL, %d ids, gap 20-60 ms, cap 2, site latency %s", b.cfg.politenessIDs, b.cfg.politenessLatency)
		if kill {
			setup += ", kill -9 of the bucket's member at 50%"
		}
		if err := b.politenessRun(setup, kill); err != nil {
			b.t.fail("1 politeness", setup, err)
		}
		b.lab.stopAll()
	}
}

func (b *bench) politenessRun(setup string, kill bool) error {
	m, err := b.lab.startMock(b.cfg.politenessLatency)
	if err != nil {
		return err
	}
	db, err := b.database()
	if err != nil {
		return err
	}
	nodes, err := b.lab.startCluster(m, db, 3, politeLimits)
	if err != nil {
		return err
	}

	n := b.cfg.politenessIDs
	start := time.Now()
	res, err := upload(nodes[0], "politeness.csv", donorCSV(1, n))
	if err != nil {
		return err
	}
	poller := nodes[0]
	if kill {
		if poller, err = killBucketHost(nodes, res.IDWork, int64(n/2)); err != nil {
			return err
		}
	}
	st, err := waitFor(poller, res.IDWork, resultReady)
	if err != nil {
		return err
	}
	if err := checkClean(st); err != nil {
		return err
	}
	wall := time.Since(start)

	rep, err := m.report(politeLimits.minGap, politeLimits.concurrency)
	if err != nil {
		return err
	}
	gap, err := m.meanGap()
	if err != nil {
		return err
	}
	floor := time.Duration(n) * politeLimits.meanGap()
	goal := "within 3% of the floor"
	if kill {
		goal = ""
	}
	b.t.add("1 politeness", setup, "wall time, upload to result ready",
		fmt.Sprintf("%.1f s (floor %.1f s, %+.1f%%)", wall.Seconds(), floor.Seconds(), 100*(wall.Seconds()/floor.Seconds()-1)), goal)
	b.t.add("1 politeness", setup, "mean gap between request starts at the site",
		fmt.Sprintf("%.1f ms (set: %.0f ms)", ms(gap), ms(politeLimits.meanGap())), "")
	b.t.add("1 politeness", setup, "gaps < 20 ms at the site",
		fmt.Sprintf("%d (smallest gap %.1f ms)", rep.GapViolations, ms(rep.MinGap)), "0")
	b.t.add("1 politeness", setup, "most requests in flight at the site", fmt.Sprint(rep.MaxInFlight), "<= 2")
	b.t.add("1 politeness", setup, "upstream requests", fmt.Sprintf("%d for %d ids", rep.Requests, n), "")
	return nil
}

// killBucketHost waits until want tasks of the work completed, kills the
// member hosting the token bucket, and returns a member still alive.
func killBucketHost(nodes []*node, workID string, want int64) (*node, error) {
	if _, err := waitFor(nodes[0], workID, completedAtLeast(want)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := nodes[0].client.Cluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("finding the token bucket: %w", err)
	}
	victim := byName(nodes, info.TokenBucket.Member)
	if victim == nil {
		return nil, fmt.Errorf("the token bucket is on %q, not one of ours", info.TokenBucket.Member)
	}
	victim.kill()
	return survivor(nodes, victim), nil
}

func byName(nodes []*node, name string) *node {
	for _, nd := range nodes {
		if nd.name == name {
			return nd
		}
	}
	return nil
}

// survivor returns the first node that is not victim.
func survivor(nodes []*node, victim *node) *node {
	for _, nd := range nodes {
		if nd != victim {
			return nd
		}
	}
	return nil
}

// Machinery cost: the site answers at once and the limits do not bind.
var fastLimits = limits{minGap: 0, maxGap: 0, concurrency: 64}

// topology is one arrangement of members for the machinery scenario.
type topology struct {
	name     string
	members  int
	postgres bool
}

var topologies = []topology{
	{"1 member, embedded store", 1, false},
	{"1 member, PostgreSQL", 1, true},
	{"3 members, PostgreSQL", 3, true},
}

// machinery measures tasks per second on each topology and, when asked,
// the same upload again from the cache.
func (b *bench) machinery(withRun, withCache bool) {
	for _, topo := range topologies {
		setup := fmt.Sprintf("%s, %d ids, gap 0, cap 64, site latency 0", topo.name, b.cfg.machineryIDs)
		if err := b.machineryRun(topo, setup, withRun, withCache); err != nil {
			b.t.fail("2/3 machinery", setup, err)
		}
		b.lab.stopAll()
	}
}

func (b *bench) machineryRun(topo topology, setup string, withRun, withCache bool) error {
	m, err := b.lab.startMock("0s")
	if err != nil {
		return err
	}
	nodes, err := b.startTopology(m, topo)
	if err != nil {
		return err
	}

	n := b.cfg.machineryIDs
	body := donorCSV(1, n)
	took, _, err := timedRun(nodes[0], "machinery.csv", body)
	if err != nil {
		return err
	}
	if withRun {
		b.t.add("2 machinery", setup, "tasks/s, upload to result ready",
			fmt.Sprintf("%.0f (%d ids in %.2f s)", float64(n)/took.Seconds(), n, took.Seconds()), topoGoal(topo))
	}
	if !withCache {
		return nil
	}

	before, err := m.requests()
	if err != nil {
		return err
	}
	took, st, err := timedRun(nodes[len(nodes)-1], "cache.csv", body)
	if err != nil {
		return err
	}
	after, err := m.requests()
	if err != nil {
		return err
	}
	b.t.add("3 cache", setup, "same upload again: upload to result ready",
		fmt.Sprintf("%.2f s (%d of %d from cache)", took.Seconds(), st.FromCache, n), "")
	b.t.add("3 cache", setup, "same upload again: upstream requests", fmt.Sprint(after-before), "0")
	return nil
}

func topoGoal(topo topology) string {
	if topo.members == 1 && !topo.postgres {
		return ">= 2000"
	}
	return ""
}

// startTopology starts the members of topo against m.
func (b *bench) startTopology(m *mock, topo topology) ([]*node, error) {
	if !topo.postgres {
		nd, err := b.lab.startNode(m, nodeSpec{name: "m1", limits: fastLimits})
		if err != nil {
			return nil, err
		}
		return []*node{nd}, nil
	}
	db, err := b.database()
	if err != nil {
		return nil, err
	}
	return b.lab.startCluster(m, db, topo.members, fastLimits)
}

// input uploads a large CSV to one member and reads its peak memory once
// the upload is accepted. The work's limits are set so that it barely
// fetches; it is cancelled afterwards.
// repeatedDonors is how many distinct donors the rows of the second large
// upload repeat, about as many as PCAWG has.
const repeatedDonors = 2000

// input measures a large upload twice, each on a fresh node so that its
// peak memory is its own: rows of distinct ids, the worst case, and rows
// that repeat a few thousand donors, as a spreadsheet of many samples does.
func (b *bench) input() {
	variants := []struct {
		setup string
		body  []byte
	}{
		{fmt.Sprintf("1 member, embedded store, %d rows of distinct ids", b.cfg.inputRows), donorCSV(1, b.cfg.inputRows)},
		{fmt.Sprintf("1 member, embedded store, %d rows of %d donors repeated", b.cfg.inputRows, repeatedDonors),
			repeatedDonorCSV(b.cfg.inputRows, repeatedDonors)},
	}
	for _, v := range variants {
		if err := b.inputRun(v.setup, v.body); err != nil {
			b.t.fail("4 input", v.setup, err)
		}
		b.lab.stopAll()
	}
}

func (b *bench) inputRun(setup string, body []byte) error {
	m, err := b.lab.startMock("0s")
	if err != nil {
		return err
	}
	slow := limits{minGap: time.Second, maxGap: time.Second, concurrency: 1}
	nd, err := b.lab.startNode(m, nodeSpec{name: "m1", limits: slow})
	if err != nil {
		return err
	}
	idle, err := nd.peakRSS()
	if err != nil {
		return err
	}

	start := time.Now()
	res, err := upload(nd, "input.csv", body)
	if err != nil {
		return err
	}
	took := time.Since(start)
	peak, err := nd.peakRSS()
	if err != nil {
		return err
	}
	if _, err := nd.client.Cancel(context.Background(), res.IDWork); err != nil {
		b.log.Warn("cancelling the input work", "err", err)
	}

	b.t.add("4 input", setup, "seconds to accepted (202)",
		fmt.Sprintf("%.2f s (%.1f MB, %d tasks)", took.Seconds(), float64(len(body))/1e6, res.TasksEnqueued), "")
	b.t.add("4 input", setup, "node's peak RSS (VmHWM) at accepted",
		fmt.Sprintf("%.0f MB (%.0f MB before the upload)", float64(peak)/1e6, float64(idle)/1e6), "< 200 MB")
	return nil
}

// statusLoad reads a running work's status at a fixed rate and reports the
// latency percentiles.
func (b *bench) statusLoad() {
	setup := fmt.Sprintf("1 member, embedded store, %d req/s for %s, work of %d ids at gap 5-10 ms", b.cfg.statusRate, b.cfg.statusDuration, b.cfg.statusIDs)
	if err := b.statusRun(setup); err != nil {
		b.t.fail("5 status", setup, err)
	}
	b.lab.stopAll()
}

func (b *bench) statusRun(setup string) error {
	m, err := b.lab.startMock("0s")
	if err != nil {
		return err
	}
	lim := limits{minGap: 5 * time.Millisecond, maxGap: 10 * time.Millisecond, concurrency: 2}
	nd, err := b.lab.startNode(m, nodeSpec{name: "m1", limits: lim})
	if err != nil {
		return err
	}
	res, err := upload(nd, "status.csv", donorCSV(1, b.cfg.statusIDs))
	if err != nil {
		return err
	}
	if _, err := waitFor(nd, res.IDWork, completedAtLeast(1)); err != nil {
		return err
	}

	load := loadStatus("http://"+nd.http+"/status/"+res.IDWork, b.cfg.statusRate, b.cfg.statusDuration)
	st, err := status(nd, res.IDWork)
	if err != nil {
		return err
	}
	if st.Finished() {
		return errors.New("the work finished during the load: raise -status-ids")
	}
	b.t.add("5 status", setup, "GET /status/{id} p50", fmt.Sprintf("%.1f ms", ms(load.percentile(50))), "")
	b.t.add("5 status", setup, "GET /status/{id} p99", fmt.Sprintf("%.1f ms", ms(load.percentile(99))), "")
	b.t.add("5 status", setup, "requests sent (errors)",
		fmt.Sprintf("%d at %.0f/s (%d)", len(load.latencies)+load.errors, load.rate, load.errors), "")
	return nil
}

// recovery kills the member hosting a work and times how long until a
// task of that work completes elsewhere.
func (b *bench) recovery() {
	setup := fmt.Sprintf("3 members, PostgreSQL, %d ids, gap 5-10 ms, cap 2", b.cfg.recoveryIDs)
	if err := b.recoveryRun(setup); err != nil {
		b.t.fail("6 recovery", setup, err)
	}
	b.lab.stopAll()
}

func (b *bench) recoveryRun(setup string) error {
	m, err := b.lab.startMock("0s")
	if err != nil {
		return err
	}
	db, err := b.database()
	if err != nil {
		return err
	}
	lim := limits{minGap: 5 * time.Millisecond, maxGap: 10 * time.Millisecond, concurrency: 2}
	nodes, err := b.lab.startCluster(m, db, 3, lim)
	if err != nil {
		return err
	}
	res, err := upload(nodes[0], "recovery.csv", donorCSV(1, b.cfg.recoveryIDs))
	if err != nil {
		return err
	}
	st, err := waitFor(nodes[0], res.IDWork, completedAtLeast(int64(b.cfg.recoveryIDs/10)))
	if err != nil {
		return err
	}

	victim := byName(nodes, st.Member)
	if victim == nil {
		return fmt.Errorf("the work is on %q, not one of ours", st.Member)
	}
	bucketToo := bucketMember(nodes[0]) == victim.name
	poller := survivor(nodes, victim)
	victim.kill()
	killed := time.Now()

	answered, done, err := timeRecovery(poller, res.IDWork)
	if err != nil {
		return err
	}
	if st, err = waitFor(poller, res.IDWork, resultReady); err != nil {
		return err
	}
	if err := checkClean(st); err != nil {
		return err
	}
	if bucketToo {
		setup += "; the killed member also hosted the token bucket"
	}
	b.t.add("6 recovery", setup, "kill -9 of the work's member to its status answering elsewhere",
		fmt.Sprintf("%.2f s", answered.Sub(killed).Seconds()), "")
	b.t.add("6 recovery", setup, "kill -9 of the work's member to its next task completing elsewhere",
		fmt.Sprintf("%.2f s", done.Sub(killed).Seconds()), "")
	return nil
}

// bucketMember names the member hosting the token bucket, or "".
func bucketMember(nd *node) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := nd.client.Cluster(ctx)
	if err != nil {
		return ""
	}
	return info.TokenBucket.Member
}

// timeRecovery polls the work on nd after a kill: it returns when the
// status first answered, and when the completed count first rose above
// that first answer's.
func timeRecovery(nd *node, workID string) (answered, done time.Time, err error) {
	first, err := waitFor(nd, workID, func(*client.Status) bool { return true })
	if err != nil {
		return answered, done, err
	}
	answered = time.Now()
	if _, err := waitFor(nd, workID, completedAtLeast(first.Counts.Completed+1)); err != nil {
		return answered, done, err
	}
	return answered, time.Now(), nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
