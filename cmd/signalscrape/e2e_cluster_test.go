package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestCluster runs a work across three members on PostgreSQL while the
// member hosting the work and then the one hosting the token bucket are
// killed with kill -9 and restarted, and checks the site saw one polite
// client and the matrix is exact.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dbURL := pgtest.ForTest(t)
	m := startMock(t, "--latency", "1ms")
	c := startCluster(t, m, dbURL)
	for _, name := range c.order {
		waitMembers(t, c.nodes[name], 3)
	}
	input := fixtures.Path(t, "pcawg_ids_matched_DonorID.csv")

	up := upload(t, c.nodes["alpha"].client, input, client.UploadOptions{})
	st := waitStatus(t, c.nodes["beta"].client, up.IDWork, 2*time.Minute, func(s *client.Status) bool {
		return s.Counts.Completed+s.Counts.Failed >= 300
	})
	var kills []time.Time

	// Kill the member hosting the work: another resumes it within 10 s.
	host := st.Member
	kills = append(kills, time.Now())
	c.nodes[host].kill()
	survivor := c.any(t, host)
	resumed := waitStatus(t, survivor.client, up.IDWork, 30*time.Second, func(s *client.Status) bool {
		return s.Member != "" && s.Member != host && s.Counts.Completed+s.Counts.Failed > st.Counts.Completed+st.Counts.Failed
	})
	if took := time.Since(kills[0]); took > 10*time.Second {
		t.Errorf("work resumed on %s %s after its host %s was killed, want within 10s", resumed.Member, took, host)
	}
	c.nodes[host].restart(t)

	// Kill the member hosting the token bucket.
	info := waitMembers(t, survivor, 3)
	bucketHost := info.TokenBucket.Member
	kills = append(kills, time.Now())
	c.nodes[bucketHost].kill()
	c.nodes[bucketHost].restart(t)

	final := waitStatus(t, c.any(t).client, up.IDWork, 4*time.Minute, finished)
	checkFixtureRun(t, c.nodes[c.any(t, final.Member).name], final, input)
	checkNoRefetchAcross(t, m, kills)
	checkPolite(t, m, testMinGap, 2)
	checkSpread(t, c)

	t.Run("limits", func(t *testing.T) { checkClusterLimits(t, c) })
	t.Run("cancel", func(t *testing.T) { checkClusterCancel(t, c, m) })
	t.Run("paused", func(t *testing.T) { checkPausedMemberRejoins(t, c) })
	t.Run("restart", func(t *testing.T) { checkLimitsSurviveRestart(t, c) })
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

// checkClusterLimits sets the limits on one member and reads them on the
// others within a second.
func checkClusterLimits(t *testing.T, c *testCluster) {
	ctx := context.Background()
	want := client.Limits{MinIntervalMS: 30, MaxIntervalMS: 60, MaxConcurrency: 1}
	if _, err := c.nodes["gamma"].client.SetLimits(ctx, want); err != nil {
		t.Fatalf("setting limits: %v", err)
	}
	time.Sleep(time.Second)
	for _, name := range c.order {
		got, err := c.nodes[name].client.Limits(ctx)
		if err != nil || *got != want {
			t.Errorf("%s: limits %+v (%v), want %+v", name, got, err, want)
		}
	}
}

// checkClusterCancel cancels a work through a member that does not host it.
func checkClusterCancel(t *testing.T, c *testCluster, m *mock) {
	ctx := context.Background()
	if _, err := c.nodes["alpha"].client.SetLimits(ctx, client.Limits{MinIntervalMS: 100, MaxIntervalMS: 150, MaxConcurrency: 2}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("donor\n")
	for i := range 80 {
		fmt.Fprintf(&b, "DOCLUSTER%03d\n", i)
	}
	path := filepath.Join(t.TempDir(), "cancel.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

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
	info := waitMembers(t, other, 3)
	if info.TokenBucket.InFlight != 0 {
		t.Errorf("%d permits still in flight after the cancel, want 0", info.TokenBucket.InFlight)
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

	// Unknown donors fail at once, so each is one quick task.
	var b strings.Builder
	b.WriteString("donor\n")
	for i := range 60 {
		fmt.Fprintf(&b, "DOPAUSED%03d\n", i)
	}
	path := filepath.Join(t.TempDir(), "paused.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Give the paused member time to learn it is blocked and rejoin.
	deadline := time.Now().Add(30 * time.Second)
	for {
		up := upload(t, other.client, path, client.UploadOptions{})
		waitStatus(t, other.client, up.IDWork, time.Minute, finished)
		after := tasksRun(t, other, paused.name)
		if after > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s ran no task after it was paused and resumed (%d before, %d after)", paused.name, before, after)
		}
		// The same donors are cached now: change them.
		path = renameDonors(t, path)
	}
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

// renameDonors writes a copy of the upload at path with every donor id
// given a new suffix, and returns the copy's path.
func renameDonors(t *testing.T, path string) string {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(t.TempDir(), "renamed.csv")
	if err := os.WriteFile(next, []byte(strings.ReplaceAll(string(body), "DOPAUSED", "DOPAUSEDX")), 0o600); err != nil {
		t.Fatal(err)
	}
	return next
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
