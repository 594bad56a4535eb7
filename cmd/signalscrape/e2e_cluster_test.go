package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/source/mocksignal"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// testCluster is three nodes on one PostgreSQL database.
type testCluster struct {
	nodes map[string]*node
	order []string
}

func startCluster(t *testing.T, m *mock, dbURL string) *testCluster {
	t.Helper()
	c := &testCluster{nodes: map[string]*node{}}
	names := []string{"alpha", "beta", "gamma"}
	gossip := map[string]string{}
	for _, name := range names {
		gossip[name] = freeAddr(t)
	}
	for _, name := range names {
		// Every member names the others as seeds, as a deployment would, so
		// that any of them can restart and find the rest.
		var seeds []string
		for _, other := range names {
			if other != name {
				seeds = append(seeds, gossip[other])
			}
		}
		n := launchNode(t, m, nodeSpec{name: name, databaseURL: dbURL, gossip: gossip[name], join: strings.Join(seeds, ",")})
		c.nodes[name] = n
		c.order = append(c.order, name)
	}
	return c
}

// any returns a live node other than the excluded ones.
func (c *testCluster) any(t testing.TB, exclude ...string) *node {
	t.Helper()
	for _, name := range c.order {
		n := c.nodes[name]
		if contains(exclude, name) {
			continue
		}
		select {
		case <-n.done:
		default:
			return n
		}
	}
	t.Fatal("no live node left")
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitMembers waits until n sees want members alive.
func waitMembers(t testing.TB, n *node, want int) *client.ClusterInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last *client.ClusterInfo
	for time.Now().Before(deadline) {
		info, err := n.client.Cluster(context.Background())
		if err == nil {
			last = info
			alive := 0
			for _, m := range info.Members {
				if m.Status == "alive" {
					alive++
				}
			}
			if alive == want && info.TokenBucket.Member != "" {
				return info
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: want %d alive members and a token bucket; last %+v", n.name, want, last)
	return nil
}

// siteLatency is how long mock-signal takes to answer in TestCluster. Most
// answers take longer than the gap between starts (30-35 ms), so that two
// requests overlap, and many take longer than two gaps, so that a client
// without the cap of 2 would have three in flight: the cap is put to the test.
const siteLatency = "20ms-80ms"

// TestCluster runs a work across three members on PostgreSQL while the
// member hosting the work and then the one hosting the token bucket are
// killed with kill -9 and restarted, and checks the site saw one polite
// client and the matrix is exact.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dbURL := pgtest.ForTest(t)
	m := startMock(t, "--latency", siteLatency)
	c := startCluster(t, m, dbURL)
	for _, name := range c.order {
		waitMembers(t, c.nodes[name], 3)
	}
	input := fixtures.Path(t, "pcawg_ids_matched_DonorID.csv")

	up := upload(t, c.nodes["alpha"].client, input, client.UploadOptions{})
	st := waitStatus(t, c.nodes["beta"].client, up.IDWork, 2*time.Minute, func(s *client.Status) bool {
		return s.Counts.Completed+s.Counts.Failed >= 300
	})
	workHost, workKill := killWorkHost(t, c, st)
	bucketHost, bucketKill := killBucketHost(t, c)

	final := waitStatus(t, c.any(t).client, up.IDWork, 4*time.Minute, finished)
	checkFixtureRun(t, c.nodes[c.any(t, final.Member).name], final, input)
	checkMembersAgree(t, c, final, input)
	checkNoRefetchAcross(t, m, []time.Time{workKill, bucketKill})
	checkPoliteAtCap(t, m, testMinGap, 2)
	checkSpread(t, c)

	t.Run("rejoined", func(t *testing.T) { checkRestartedTakeTasks(t, c, workHost, bucketHost) })
	t.Run("limits", func(t *testing.T) { checkClusterLimits(t, c) })
	t.Run("cancel", func(t *testing.T) { checkClusterCancel(t, c, m) })
	t.Run("paused", func(t *testing.T) { checkPausedMemberRejoins(t, c) })
	t.Run("restart", func(t *testing.T) { checkLimitsSurviveRestart(t, c) })
}

// member returns the node named name, failing the test when there is none.
func (c *testCluster) member(t testing.TB, name, role string) *node {
	t.Helper()
	n, ok := c.nodes[name]
	if !ok {
		t.Fatalf("%s is %q, not a member (%s)", role, name, strings.Join(c.order, ", "))
	}
	return n
}

// killWorkHost kills the member hosting the work of st with kill -9, checks
// that another member resumes the work within 10 s, and restarts the killed
// member. It returns the member's name and when it was killed.
func killWorkHost(t *testing.T, c *testCluster, st *client.Status) (string, time.Time) {
	t.Helper()
	host := c.member(t, st.Member, "the work's host")
	settledOf := func(s *client.Status) int64 { return s.Counts.Completed + s.Counts.Failed }
	killed := time.Now()
	host.kill()
	survivor := c.any(t, host.name)
	resumed := waitStatus(t, survivor.client, st.IDWork, 30*time.Second, func(s *client.Status) bool {
		return s.Member != "" && s.Member != host.name && settledOf(s) > settledOf(st)
	})
	if took := time.Since(killed); took > 10*time.Second {
		t.Errorf("work resumed on %s %s after its host %s was killed, want within 10s", resumed.Member, took, host.name)
	}
	host.restart(t)
	return host.name, killed
}

// killBucketHost kills the member hosting the token bucket with kill -9,
// waits until a survivor reports the bucket on a survivor, and only then
// restarts the killed member. It returns the member's name and when it was
// killed.
func killBucketHost(t *testing.T, c *testCluster) (string, time.Time) {
	t.Helper()
	info := waitMembers(t, c.any(t), 3)
	host := c.member(t, info.TokenBucket.Member, "the token bucket's host")
	var survivors []string
	for _, name := range c.order {
		if name != host.name {
			survivors = append(survivors, name)
		}
	}
	killed := time.Now()
	host.kill()
	waitBucketOn(t, c.any(t, host.name), survivors)
	host.restart(t)
	return host.name, killed
}

// waitBucketOn waits up to 30 s until n reports the token bucket hosted by
// one of members.
func waitBucketOn(t *testing.T, n *node, members []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer yet"
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		info, err := n.client.Cluster(ctx)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case contains(members, info.TokenBucket.Member):
			return
		default:
			last = fmt.Sprintf("token_bucket.member %q", info.TokenBucket.Member)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: the token bucket did not move to a survivor (%s) within 30s; last answer: %s",
		n.name, strings.Join(members, ", "), last)
}

// checkMembersAgree reads the finished work's status and downloads its
// matrix through every member: the statuses must match final, and every
// matrix must be the fixtures' matrix, byte for byte.
func checkMembersAgree(t *testing.T, c *testCluster, final *client.Status, input string) {
	t.Helper()
	ctx := context.Background()
	want := expectedMatrix(t, input)
	for _, name := range c.order {
		n := c.nodes[name]
		st, err := n.client.Status(ctx, final.IDWork)
		if err != nil {
			t.Errorf("%s: reading the status: %v", name, err)
			continue
		}
		if got, w := statusSummary(st), statusSummary(final); got != w {
			t.Errorf("%s: status %s; another member said %s", name, got, w)
		}
		var buf bytes.Buffer
		if err := n.client.Download(ctx, final.IDWork, client.FormatCSV, &buf); err != nil {
			t.Errorf("%s: downloading the matrix: %v", name, err)
			continue
		}
		if got := buf.String(); got != want {
			t.Errorf("%s: matrix of %d bytes differs from the fixtures' (%d bytes):\n%s",
				name, len(got), len(want), firstDiff(got, want))
		}
	}
}

// statusSummary renders the parts of a finished work's status that every
// member must report alike.
func statusSummary(st *client.Status) string {
	return fmt.Sprintf("%s, total %d, counts %+v, %d from cache, %d errors, download %q, member %q",
		st.Status, st.Total, st.Counts, st.FromCache, len(st.Errors), st.DownloadURL, st.Member)
}

// checkPoliteAtCap checks, as checkPolite does, that the site saw one
// polite client, and also that the client did have maxConcurrency requests
// in flight at once: a cap never reached proves nothing.
func checkPoliteAtCap(t *testing.T, m *mock, minGap time.Duration, maxConcurrency int) {
	t.Helper()
	checkPolite(t, m, minGap, maxConcurrency)
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := mocksignal.CheckPoliteness(entries, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxInFlight != maxConcurrency {
		t.Errorf("the site saw at most %d request(s) in flight at once, want exactly the cap %d (%s)",
			rep.MaxInFlight, maxConcurrency, rep)
	}
}

// checkNoRefetchAcross checks that a donor was fetched twice only when its
// first fetch was in flight at one of the kills.
func checkNoRefetchAcross(t *testing.T, m *mock, kills []time.Time) {
	t.Helper()
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]mocksignal.LogEntry{}
	for _, e := range entries {
		if e.ID == "" {
			continue
		}
		prev, seen := first[e.ID]
		if !seen {
			first[e.ID] = e
			continue
		}
		nearKill := false
		for _, k := range kills {
			if !prev.End.Before(k.Add(-time.Second)) && prev.Start.Before(k.Add(time.Second)) {
				nearKill = true
			}
		}
		if !nearKill {
			t.Errorf("donor %s fetched again at %s; its first fetch ended at %s, at no kill",
				e.ID, e.Start.Format(time.StampMicro), prev.End.Format(time.StampMicro))
		}
	}
	if len(first) != 1740 {
		t.Errorf("the site saw %d distinct donors, want 1740", len(first))
	}
}

// checkSpread checks that tasks ran on more than one member.
func checkSpread(t *testing.T, c *testCluster) {
	t.Helper()
	info := waitMembers(t, c.any(t), 3)
	busy := 0
	var counts []string
	for _, m := range info.Members {
		counts = append(counts, fmt.Sprintf("%s=%d", m.Name, m.TasksRun))
		if m.TasksRun > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("tasks ran on %d member(s), want the work spread: %s", busy, strings.Join(counts, " "))
	}
}

// checkClusterLimits sets the limits on one member and, a second later,
// reads them on every member, both as stored and as the token bucket applies
// them; the cancel subtest checks at the site that the bucket keeps to the
// limits it reports.
func checkClusterLimits(t *testing.T, c *testCluster) {
	ctx := context.Background()
	want := client.Limits{MinIntervalMS: 30, MaxIntervalMS: 60, MaxConcurrency: 1}
	if _, err := c.nodes["gamma"].client.SetLimits(ctx, want); err != nil {
		t.Fatalf("setting limits: %v", err)
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	for _, name := range c.order {
		got, err := c.nodes[name].client.Limits(ctx)
		if err != nil || *got != want {
			t.Errorf("%s: limits %+v (%v), want %+v", name, got, err, want)
		}
		applied := waitBucketLimits(c.nodes[name], want, deadline)
		if applied != want {
			t.Errorf("%s: the token bucket applies %+v, want %+v within a second", name, applied, want)
		}
	}
}

// waitBucketLimits reads, until deadline, the limits that n reports the
// token bucket applies, and returns the last it saw.
func waitBucketLimits(n *node, want client.Limits, deadline time.Time) client.Limits {
	var last client.Limits
	for {
		info, err := n.client.Cluster(context.Background())
		if err == nil {
			last = info.TokenBucket.Limits
		}
		if last == want || time.Now().After(deadline) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkClusterCancel cancels a work through a member that does not host it.
func checkClusterCancel(t *testing.T, c *testCluster, m *mock) {
	ctx := context.Background()
	limits := client.Limits{MinIntervalMS: 100, MaxIntervalMS: 150, MaxConcurrency: 2}
	if _, err := c.nodes["alpha"].client.SetLimits(ctx, limits); err != nil {
		t.Fatal(err)
	}
	path := unknownDonors(t, "DOCLUSTER", 80)

	up := upload(t, c.nodes["beta"].client, path, client.UploadOptions{})
	st := waitStatus(t, c.nodes["beta"].client, up.IDWork, time.Minute, func(s *client.Status) bool { return s.Counts.Failed >= 4 })
	other := c.any(t, st.Member)
	asked := time.Now()
	res, err := other.client.Cancel(ctx, up.IDWork)
	answered := time.Now()
	if err != nil || res.Status != client.StatusCancelled || answered.Sub(asked) > 2*time.Second {
		t.Fatalf("cancel through %s: %+v, %v after %s", other.name, res, err, answered.Sub(asked))
	}

	time.Sleep(1500 * time.Millisecond)
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.ID, "DOCLUSTER") && e.Start.After(answered) {
			t.Errorf("donor %s fetched at %s, after the cancel was answered", e.ID, e.Start.Format(time.StampMicro))
		}
	}
	minGap := time.Duration(limits.MinIntervalMS)*time.Millisecond - gapTolerance
	checkSpacedBy(t, entries, "DOCLUSTER", minGap)
	info := waitMembers(t, other, 3)
	if info.TokenBucket.InFlight != 0 {
		t.Errorf("%d permits still in flight after the cancel, want 0", info.TokenBucket.InFlight)
	}
}

// checkSpacedBy checks that the site saw the requests for the donors whose
// ids start with prefix start at least gap apart: the token bucket applied
// the limits set through the API, not only the store.
func checkSpacedBy(t *testing.T, entries []mocksignal.LogEntry, prefix string, gap time.Duration) {
	t.Helper()
	var reqs []mocksignal.LogEntry
	for _, e := range sampleRequests(entries) {
		if strings.HasPrefix(e.ID, prefix) {
			reqs = append(reqs, e)
		}
	}
	if len(reqs) < 2 {
		t.Errorf("the site saw %d request(s) for %s donors, want at least 2 to measure a gap", len(reqs), prefix)
		return
	}
	for i := 1; i < len(reqs); i++ {
		if d := time.Duration(reqs[i].StartUnixNano - reqs[i-1].StartUnixNano); d < gap {
			t.Errorf("%s started %s after %s (at %s), want at least %s: the bucket did not apply the limits set",
				reqs[i].ID, d, reqs[i-1].ID, reqs[i-1].Start.Format(time.StampMicro), gap)
		}
	}
}

// checkPausedMemberRejoins stops a member's process (SIGSTOP) until the
// others declare it dead, lets it run again, and checks that it takes tasks
// again: protoactor blocks a member it dropped for good, so the member must
// notice and rejoin under a new actor system id.
func checkPausedMemberRejoins(t *testing.T, c *testCluster) {
	info := waitMembers(t, c.any(t), 3)
	paused := c.any(t, info.TokenBucket.Member)
	other := c.any(t, paused.name)
	before := tasksRun(t, other, paused.name)

	if err := paused.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitMemberStatus(t, other, paused.name, "dead")
	// Let protoactor act on the dead member before it comes back.
	time.Sleep(2 * time.Second)
	if err := paused.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitMemberStatus(t, other, paused.name, "alive")
	// The paused member may need a while to learn it is blocked and rejoin.
	waitTakesTasks(t, other, map[string]int64{paused.name: before}, "DOPAUSED")
}

// checkRestartedTakeTasks checks that work flows again to the members that
// were killed with kill -9 and restarted. Task counts are per process, so
// any task counted was run after the restart.
func checkRestartedTakeTasks(t *testing.T, c *testCluster, names ...string) {
	before := map[string]int64{}
	for _, name := range names {
		before[name] = 0
	}
	waitTakesTasks(t, c.any(t), before, "DOREJOIN")
}

// waitTakesTasks uploads small works through via until every member in
// before has run more tasks than before says, as via reports; it gives up
// after 30 s. Each work has donors unknown to the site, named after prefix
// and the round, so that none is cached and each is one quick task.
func waitTakesTasks(t *testing.T, via *node, before map[string]int64, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for round := 0; ; round++ {
		path := unknownDonors(t, fmt.Sprintf("%sR%d", prefix, round), 30)
		up := upload(t, via.client, path, client.UploadOptions{})
		waitStatus(t, via.client, up.IDWork, time.Minute, finished)
		idle, seen := idleMembers(via, before)
		if len(idle) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s ran no new task in %d uploads through %s over 30s: tasks run before %v, last seen %s",
				strings.Join(idle, ", "), round+1, via.name, before, seen)
		}
	}
}

// idleMembers returns the members of before that have run no more tasks
// than before says, as n reports them, and what n reported.
func idleMembers(n *node, before map[string]int64) ([]string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var idle []string
	info, err := n.client.Cluster(ctx)
	counts := map[string]int64{}
	if err == nil {
		for _, m := range info.Members {
			counts[m.Name] = m.TasksRun
		}
	}
	for name, b := range before {
		if got, ok := counts[name]; !ok || got <= b {
			idle = append(idle, name)
		}
	}
	sort.Strings(idle)
	if err != nil {
		return idle, err.Error()
	}
	return idle, fmt.Sprint(counts)
}

// unknownDonors writes an upload of n donor ids, prefix and a number, and
// returns its path.
func unknownDonors(t *testing.T, prefix string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("donor\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%03d\n", prefix, i)
	}
	path := filepath.Join(t.TempDir(), prefix+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tasksRun returns how many tasks member has run, as n reports it.
func tasksRun(t *testing.T, n *node, member string) int64 {
	t.Helper()
	info, err := n.client.Cluster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.Members {
		if m.Name == member {
			return m.TasksRun
		}
	}
	t.Fatalf("%s does not list %s", n.name, member)
	return 0
}

// waitMemberStatus waits until n reports member with the given status.
func waitMemberStatus(t *testing.T, n *node, member, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := n.client.Cluster(context.Background())
		if err == nil {
			for _, m := range info.Members {
				if m.Name == member && m.Status == status {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never saw %s %s", n.name, member, status)
}

// checkLimitsSurviveRestart kills every member, starts one again and reads
// the limits stored by the earlier subtests.
func checkLimitsSurviveRestart(t *testing.T, c *testCluster) {
	for _, name := range c.order {
		c.nodes[name].kill()
	}
	n := c.nodes["beta"]
	n.args = withoutJoin(n.args)
	n.restart(t)
	got, err := n.client.Limits(context.Background())
	want := client.Limits{MinIntervalMS: 100, MaxIntervalMS: 150, MaxConcurrency: 2}
	if err != nil || *got != want {
		t.Errorf("limits after a full restart %+v (%v), want %+v", got, err, want)
	}
}

// withoutJoin drops --join, for a member that restarts alone.
func withoutJoin(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--join" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
