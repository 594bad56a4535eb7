package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/source/mocksignal"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// TestSingleNode runs the whole job on one node with the embedded store, as
// processes: upload, live status, the exact matrix, a kill -9 in the middle
// and a restart that resumes without fetching anything twice, the cache on a
// second upload, bad input, and cancel.
func TestSingleNode(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	m := startMock(t, "--latency", "1ms")
	n := launchNode(t, m, nodeSpec{name: "solo", dataDir: t.TempDir(), extra: []string{"--max-upload-bytes", fmt.Sprint(testMaxUpload)}})
	input := fixtures.Path(t, "pcawg_ids_matched_DonorID.csv")

	up := upload(t, n.client, input, client.UploadOptions{})
	if up.TasksEnqueued != 1740 || up.Rows != 1860 {
		t.Fatalf("upload: %d distinct ids of %d rows, want 1740 of 1860", up.TasksEnqueued, up.Rows)
	}

	// Crash the node once a third of the donors are settled.
	mid := waitStatus(t, n.client, up.IDWork, 2*time.Minute, func(s *client.Status) bool {
		return s.Counts.Completed+s.Counts.Failed >= 580
	})
	if mid.Status != client.StatusRunning || mid.Total != 1740 {
		t.Fatalf("mid-run status %q total %d, want running 1740", mid.Status, mid.Total)
	}
	killedAt := time.Now()
	n.kill()
	n.restart(t)

	st := waitStatus(t, n.client, up.IDWork, 3*time.Minute, finished)
	checkFixtureRun(t, n, st, input)
	checkNoRefetch(t, m, killedAt)
	checkPolite(t, m, testMinGap, 2)
	checkFewLogLines(t, n, up.IDWork)

	t.Run("cache", func(t *testing.T) { checkCachedRerun(t, n, m, input) })
	t.Run("cli", func(t *testing.T) { checkCLIUpload(t, n, input) })
	t.Run("bad input", func(t *testing.T) { checkBadInput(t, n, up.IDWork) })
	t.Run("cancel", func(t *testing.T) { checkCancel(t, n, m) })
}

// readCSV reads a whole CSV file.
func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkCLIUpload runs `signalscrape upload --wait --out` against the node
// on an input the cache already holds: the first line names the work, the
// command exits 1 because some donors are unknown to the site, the file
// holds the exact matrix, and `status --json` of the work agrees.
func checkCLIUpload(t *testing.T, n *node, input string) {
	out := filepath.Join(t.TempDir(), "matrix.csv")
	server := "http://" + n.http
	cmd := exec.Command(binary, "upload", input, "--server", server, "--wait", "--out", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("upload --wait: %v, want exit 1 for a work completed with errors; stderr:\n%s", err, stderr.String())
	}
	id, _, _ := strings.Cut(stdout.String(), "\n")
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("first line %q is not a work id", id)
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != expectedMatrix(t, input) {
		t.Fatalf("--out file (%v) differs from the fixtures' matrix:\n%s", err, firstDiff(string(got), expectedMatrix(t, input)))
	}

	body, err := exec.Command(binary, "status", id, "--server", server, "--json").Output()
	if err != nil {
		t.Fatalf("status --json: %v", err)
	}
	var st client.Status
	if err := json.Unmarshal(body, &st); err != nil || st.IDWork != id || st.Status != client.StatusCompletedWithErrors {
		t.Fatalf("status --json: %+v (%v), want work %s completed_with_errors", st, err, id)
	}
}

// checkFewLogLines reads the log of the node's restarted process, which
// fetched more than a thousand donors: it tells that the work resumed and
// finished, in a few lines, and never a line per donor at info level.
func checkFewLogLines(t *testing.T, n *node, workID string) {
	t.Helper()
	body, err := os.ReadFile(n.log)
	if err != nil {
		t.Fatal(err)
	}
	var info []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "level=INFO") {
			info = append(info, line)
		}
	}
	for _, event := range []string{`msg="work active"`, `msg="work finished"`} {
		if !slices.ContainsFunc(info, func(l string) bool { return strings.Contains(l, event) && strings.Contains(l, workID) }) {
			t.Errorf("the node logged no %s line for work %s", event, workID)
		}
	}
	if len(info) > 40 {
		t.Errorf("the node logged %d info lines for one work, want a few; the first: %s", len(info), strings.Join(info[:5], "\n"))
	}
}

func upload(t testing.TB, c *client.Client, path string, opts client.UploadOptions) *client.UploadResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up, err := c.UploadFile(ctx, path, opts)
	if err != nil {
		t.Fatalf("uploading %s: %v", path, err)
	}
	return up
}

// checkFixtureRun checks the end state of a work on the real input: 708
// donors with a profile, the 1,032 others failed as unknown, and a matrix
// whose numbers are byte-identical to the fixture files.
func checkFixtureRun(t *testing.T, n *node, st *client.Status, input string) {
	t.Helper()
	if st.Status != client.StatusCompletedWithErrors {
		t.Fatalf("status %q, want completed_with_errors", st.Status)
	}
	if st.Counts.Completed != 708 || st.Counts.Failed != 1032 || len(st.Errors) != 1032 {
		t.Fatalf("completed %d failed %d errors %d, want 708, 1032, 1032", st.Counts.Completed, st.Counts.Failed, len(st.Errors))
	}
	for _, e := range st.Errors {
		if !strings.Contains(e.Error, "unknown") {
			t.Fatalf("error of %s is %q, want an unknown-donor error", e.ID, e.Error)
		}
	}
	if st.DownloadURL == "" {
		t.Fatal("finished work has no download_url")
	}

	var buf bytes.Buffer
	if err := n.client.Download(context.Background(), st.IDWork, "csv", &buf); err != nil {
		t.Fatalf("download: %v", err)
	}
	want := expectedMatrix(t, input)
	if got := buf.String(); got != want {
		t.Fatalf("matrix differs from the fixtures:\n%s", firstDiff(got, want))
	}
}

// expectedMatrix builds the matrix from the input and the fixture files
// directly: a column per label whose donor has a file, in upload order, the
// count cells copied as text.
func expectedMatrix(t testing.TB, input string) string {
	t.Helper()
	rows := readCSV(t, input)

	var channels []string
	var labels []string
	cols := map[string][]string{}
	for _, row := range rows[1:] {
		label, id := row[0], row[1]
		if _, seen := cols[label]; seen {
			continue
		}
		body, err := os.ReadFile(fixtures.Path(t, filepath.Join("profiles", id+".csv")))
		if err != nil {
			continue
		}
		var counts []string
		channels = channels[:0]
		for _, line := range strings.Split(strings.TrimRight(string(body), "\n"), "\n")[1:] {
			name, count, _ := strings.Cut(line, ",")
			channels = append(channels, name)
			counts = append(counts, count)
		}
		cols[label] = counts
		labels = append(labels, label)
	}

	var b strings.Builder
	b.WriteString("Type," + strings.Join(labels, ",") + "\n")
	for i, ch := range channels {
		b.WriteString(ch)
		for _, l := range labels {
			b.WriteString("," + cols[l][i])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got  %.200s\n want %.200s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// checkNoRefetch checks from the site's request log that no donor was
// fetched twice, except one whose first request was in flight when the node
// was killed.
func checkNoRefetch(t *testing.T, m *mock, killedAt time.Time) {
	t.Helper()
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]mocksignal.LogEntry{}
	again := 0
	for _, e := range entries {
		if e.ID == "" {
			continue
		}
		prev, seen := first[e.ID]
		if !seen {
			first[e.ID] = e
			continue
		}
		again++
		if prev.End.Before(killedAt.Add(-time.Second)) {
			t.Errorf("donor %s fetched again at %s, though its first fetch ended at %s, before the kill at %s",
				e.ID, e.Start.Format(time.StampMicro), prev.End.Format(time.StampMicro), killedAt.Format(time.StampMicro))
		}
	}
	if len(first) != 1740 {
		t.Errorf("the site saw %d distinct donors, want 1740", len(first))
	}
	if again > 2 {
		t.Errorf("%d donors fetched twice; at most the 2 in flight at the kill may be", again)
	}
}

// checkPolite checks the gap and the cap from the site's own request log.
func checkPolite(t *testing.T, m *mock, minGap time.Duration, maxConcurrency int) {
	t.Helper()
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := mocksignal.CheckPoliteness(entries, minGap-gapTolerance, maxConcurrency)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations() > 0 {
		t.Errorf("the site saw impolite traffic: %s%s", rep, closeStarts(entries, minGap-gapTolerance))
	}
}

// closeStarts lists the first few pairs of requests that started closer than
// gap, for the failure message.
func closeStarts(entries []mocksignal.LogEntry, gap time.Duration) string {
	var reqs []mocksignal.LogEntry
	for _, e := range entries {
		if e.ID != "" {
			reqs = append(reqs, e)
		}
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].StartUnixNano < reqs[j].StartUnixNano })
	var b strings.Builder
	shown := 0
	for i := 1; i < len(reqs) && shown < 5; i++ {
		if d := time.Duration(reqs[i].StartUnixNano - reqs[i-1].StartUnixNano); d < gap {
			fmt.Fprintf(&b, "\n  %s at %s, then %s after %s", reqs[i-1].ID, reqs[i-1].Start.Format(time.StampMicro), reqs[i].ID, d)
			shown++
		}
	}
	return b.String()
}

// checkCachedRerun uploads the same input again: it completes from the
// cache with not one request to the site.
func checkCachedRerun(t *testing.T, n *node, m *mock, input string) {
	before := countRequests(t, m)
	up := upload(t, n.client, input, client.UploadOptions{})
	st := waitStatus(t, n.client, up.IDWork, time.Minute, finished)
	checkFixtureRun(t, n, st, input)
	if st.FromCache != 1740 {
		t.Errorf("from_cache %d, want 1740", st.FromCache)
	}
	if after := countRequests(t, m); after != before {
		t.Errorf("the cached rerun sent %d requests to the site, want 0", after-before)
	}
}

func countRequests(t testing.TB, m *mock) int {
	t.Helper()
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.ID != "" {
			n++
		}
	}
	return n
}

// checkCancel slows the limits down, starts a work of donors the site does
// not know, cancels it, and checks that it stops within 2 s and that the
// site sees no request for it afterwards.
func checkCancel(t *testing.T, n *node, m *mock) {
	ctx := context.Background()
	if _, err := n.client.SetLimits(ctx, client.Limits{MinIntervalMS: 100, MaxIntervalMS: 150, MaxConcurrency: 1}); err != nil {
		t.Fatalf("setting limits: %v", err)
	}
	var b strings.Builder
	b.WriteString("donor\n")
	for i := range 60 {
		fmt.Fprintf(&b, "DOCANCEL%03d\n", i)
	}
	path := filepath.Join(t.TempDir(), "cancel.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	up := upload(t, n.client, path, client.UploadOptions{})
	waitStatus(t, n.client, up.IDWork, time.Minute, func(s *client.Status) bool { return s.Counts.Failed >= 3 })
	asked := time.Now()
	st, err := n.client.Cancel(ctx, up.IDWork)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	answered := time.Now()
	if took := answered.Sub(asked); st.Status != client.StatusCancelled || took > 2*time.Second {
		t.Fatalf("cancel answered %q after %s, want cancelled within 2s", st.Status, took)
	}
	if _, err := n.client.Cancel(ctx, up.IDWork); err != nil {
		t.Fatalf("a second cancel must succeed too: %v", err)
	}

	time.Sleep(time.Second)
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.ID, "DOCANCEL") && e.Start.After(answered) {
			t.Errorf("donor %s fetched at %s, after the cancel was answered at %s", e.ID, e.Start.Format(time.StampMicro), answered.Format(time.StampMicro))
		}
	}
	st = waitStatus(t, n.client, up.IDWork, 5*time.Second, finished)
	if st.Counts.Cancelled == 0 || st.Counts.Running != 0 {
		t.Errorf("counts after cancel %+v, want cancelled > 0 and nothing running", st.Counts)
	}
}
