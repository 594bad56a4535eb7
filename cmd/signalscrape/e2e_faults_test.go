package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/source/mocksignal"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// The site's faults in TestClusterFaults.
const (
	faultRetryAfter      = time.Second
	faultBreakerCooldown = time.Second
	faultBreakerFailures = 5
	faultBurstAt         = 150
	faultBurst           = 8
	// faultSlack is how late after a pause begins a permit granted just
	// before it may still start, on a busy machine.
	faultSlack = 300 * time.Millisecond
)

// TestClusterFaults runs one work on two members against a site that
// throttles in storms of three 429s in a row, fails in a burst, answers
// slowly past the request timeout, resets connections and sends stale and
// garbage pages, while PostgreSQL restarts and then one member is stopped
// with SIGTERM. The work must end
// with the exact matrix, the site's log must show the cluster pausing for
// every throttle and for the circuit breaker, and the stopped member must
// leave the cluster within a bounded time, its permits returned.
func TestClusterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	db := privatePostgres(t)
	dbURL, err := db.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := startMock(t, "--latency", "1ms", "--seed", "7",
		"--throttle-every", "97", "--throttle-storm", "3", "--retry-after", faultRetryAfter.String(),
		"--error-burst", strconv.Itoa(faultBurst), "--error-burst-at", strconv.Itoa(faultBurstAt),
		"--stale-rate", "0.03", "--garbage-rate", "0.03", "--reset-rate", "0.02",
		"--slow-rate", "0.02", "--slow-delay", "5s")
	extra := []string{"--fetch-timeout", "1s", "--max-attempts", "10",
		"--breaker-failures", strconv.Itoa(faultBreakerFailures), "--breaker-cooldown", faultBreakerCooldown.String()}
	alphaGossip, betaGossip := freeAddr(t), freeAddr(t)
	alpha := launchNode(t, m, nodeSpec{name: "alpha", databaseURL: dbURL, gossip: alphaGossip, join: betaGossip, extra: extra})
	beta := launchNode(t, m, nodeSpec{name: "beta", databaseURL: dbURL, gossip: betaGossip, join: alphaGossip, extra: extra})
	waitMembers(t, alpha, 2)
	waitMembers(t, beta, 2)

	input := headOfFixture(t, 450)
	up := upload(t, alpha.client, input, client.UploadOptions{})

	waitStatus(t, alpha.client, up.IDWork, 2*time.Minute, settled(100))
	restartPostgres(t, db, alpha, input)

	waitStatus(t, alpha.client, up.IDWork, 2*time.Minute, settled(250))
	stopGracefully(t, beta, alpha)

	final := waitStatus(t, alpha.client, up.IDWork, 3*time.Minute, finished)
	checkRunOf(t, alpha, final, input)
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	checkFaultsSeen(t, entries)
	checkThrottlePauses(t, entries)
	checkBreakerPause(t, entries)
	checkPolite(t, m, testMinGap, 2)
	if info := waitMembers(t, alpha, 1); info.TokenBucket.InFlight != 0 {
		t.Errorf("%d permits in flight after the work, want 0", info.TokenBucket.InFlight)
	}
}

// privatePostgres starts a PostgreSQL server of the test's own, which it may
// halt and resume.
func privatePostgres(t *testing.T) *pgtest.Server {
	t.Helper()
	if os.Getenv(pgtest.SkipEnv) == "1" {
		t.Skip("PostgreSQL tests skipped: " + pgtest.SkipEnv + "=1")
	}
	srv, err := pgtest.Start(context.Background(), t.Logf)
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func settled(n int64) func(*client.Status) bool {
	return func(s *client.Status) bool { return s.Finished() || s.Counts.Completed+s.Counts.Failed >= n }
}

// headOfFixture writes the fixture's header and its first n rows to a file.
func headOfFixture(t *testing.T, n int) string {
	t.Helper()
	lines := strings.SplitAfter(string(fixtures.Read(t, "pcawg_ids_matched_DonorID.csv")), "\n")
	path := filepath.Join(t.TempDir(), "head.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:n+1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// restartPostgres halts the database for 3 s in the middle of the work. An
// upload meanwhile must not be acknowledged; after the restart one is.
func restartPostgres(t *testing.T, db *pgtest.Server, n *node, input string) {
	t.Helper()
	db.Halt()
	time.Sleep(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if up, err := n.client.UploadFile(ctx, input, client.UploadOptions{MaxTasks: 1}); err == nil {
		t.Errorf("an upload was acknowledged as work %s while the database was down", up.IDWork)
	}
	time.Sleep(2 * time.Second)
	if err := db.Resume(context.Background()); err != nil {
		t.Fatalf("restarting PostgreSQL: %v", err)
	}
	up := upload(t, n.client, input, client.UploadOptions{MaxTasks: 1})
	waitStatus(t, n.client, up.IDWork, time.Minute, finished)
}

// stopGracefully sends SIGTERM to n: it must exit within 20 s, and the
// other member must see it leave, not fail.
func stopGracefully(t *testing.T, n, other *node) {
	t.Helper()
	asked := time.Now()
	if !n.stop(20 * time.Second) {
		t.Fatalf("%s did not exit within 20s of SIGTERM", n.name)
	}
	t.Logf("%s exited %s after SIGTERM", n.name, time.Since(asked).Round(time.Millisecond))
	if err := n.exitErr(); err != nil {
		t.Errorf("%s exited with %v after SIGTERM, want success", n.name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := other.client.Cluster(context.Background())
		if err == nil && memberStatus(info, n.name) == "left" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s sees %s as %q, want left (%v)", other.name, n.name, memberStatus(info, n.name), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitErr is how the process ended; nil while it runs or after a clean exit.
func (p *proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func memberStatus(info *client.ClusterInfo, name string) string {
	if info == nil {
		return ""
	}
	for _, m := range info.Members {
		if m.Name == name {
			return m.Status
		}
	}
	return ""
}

// checkRunOf checks a finished work on input: every donor with a fixture
// profile completed, the others failed as unknown, and the matrix is exact.
func checkRunOf(t *testing.T, n *node, st *client.Status, input string) {
	t.Helper()
	known, unknown := donorsOf(t, input)
	if st.Counts.Completed != known || st.Counts.Failed != unknown {
		t.Errorf("completed %d failed %d, want %d and %d; errors %+v", st.Counts.Completed, st.Counts.Failed, known, unknown, st.Errors)
	}
	for _, e := range st.Errors {
		if !strings.Contains(e.Error, "unknown") {
			t.Errorf("donor %s failed with %q, want only unknown donors to fail", e.ID, e.Error)
		}
	}
	var buf bytes.Buffer
	if err := n.client.Download(context.Background(), st.IDWork, "csv", &buf); err != nil {
		t.Fatalf("download: %v", err)
	}
	if got, want := buf.String(), expectedMatrix(t, input); got != want {
		t.Fatalf("matrix differs from the fixtures:\n%s", firstDiff(got, want))
	}
}

// donorsOf counts the distinct donors of input with and without a fixture
// profile.
func donorsOf(t *testing.T, input string) (known, unknown int64) {
	t.Helper()
	rows := readCSV(t, input)
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		id := row[1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := os.Stat(filepath.Join(fixtures.ProfilesDir(t), id+".csv")); err == nil {
			known++
		} else {
			unknown++
		}
	}
	return known, unknown
}

// checkFaultsSeen checks that the site injected every kind of fault.
func checkFaultsSeen(t *testing.T, entries []mocksignal.LogEntry) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Fault]++
	}
	for _, fault := range []string{"throttle", "error", "stale", "garbage", "slow", "reset"} {
		if seen[fault] == 0 {
			t.Errorf("the site injected no %s fault: %v", fault, seen)
		}
	}
	t.Logf("faults injected: %v", seen)
}

// sampleRequests returns the requests for profiles, by start.
func sampleRequests(entries []mocksignal.LogEntry) []mocksignal.LogEntry {
	var reqs []mocksignal.LogEntry
	for _, e := range entries {
		if strings.HasPrefix(e.Path, "/sample/") {
			reqs = append(reqs, e)
		}
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].StartUnixNano < reqs[j].StartUnixNano })
	return reqs
}

// checkQuiet fails if a profile request started inside (from, to).
func checkQuiet(t *testing.T, reqs []mocksignal.LogEntry, from, to time.Time, why string) {
	t.Helper()
	for _, r := range reqs {
		if r.Start.After(from) && r.Start.Before(to) {
			t.Errorf("%s: request for %s started at %s, inside the pause from %s to %s", why, r.ID,
				r.Start.Format(time.StampMilli), from.Format(time.StampMilli), to.Format(time.StampMilli))
		}
	}
}

// checkThrottlePauses checks that no request started while a 429's
// Retry-After ran, but for one granted before the 429 arrived.
func checkThrottlePauses(t *testing.T, entries []mocksignal.LogEntry) {
	t.Helper()
	reqs := sampleRequests(entries)
	run, longest := 0, 0
	for _, r := range reqs {
		if r.Fault != "throttle" {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
		checkQuiet(t, reqs, r.End.Add(faultSlack), r.End.Add(faultRetryAfter-gapTolerance), "throttle")
	}
	if longest < 3 {
		t.Errorf("at most %d throttled requests in a row, want the site's storms of 3", longest)
	}
}

// checkBreakerPause checks that the circuit breaker opened at the burst's
// fifth error: no request started during its cool-down.
func checkBreakerPause(t *testing.T, entries []mocksignal.LogEntry) {
	t.Helper()
	reqs := sampleRequests(entries)
	var burst []mocksignal.LogEntry
	for _, r := range reqs {
		if r.Fault == "error" {
			burst = append(burst, r)
		}
	}
	if len(burst) < faultBreakerFailures {
		t.Fatalf("%d errors in the site's log, want the burst of %d", len(burst), faultBurst)
	}
	sort.Slice(burst, func(i, j int) bool { return burst[i].EndUnixNano < burst[j].EndUnixNano })
	trip := burst[faultBreakerFailures-1].End
	checkQuiet(t, reqs, trip.Add(faultSlack), trip.Add(faultBreakerCooldown-gapTolerance), "circuit breaker")
}
