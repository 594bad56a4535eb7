package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// TestNoChromium starts a node whose browser source finds no Chromium: it
// serves, says once in its log how to get going, shows the source as
// unavailable in /readyz, the status and the pages, and keeps the donors of a
// work pending (their tasks run, but count as pending while they wait for the
// browser) without asking for permits or touching the site.
func TestNoChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	m := startMock(t)
	n := launchNode(t, m, nodeSpec{name: "nochromium", dataDir: t.TempDir(), readyPath: "/healthz", extra: []string{
		"--source", "browser", "--source-url", "http://" + m.addr, "--chromium", "/nonexistent/chromium",
	}})
	base := "http://" + n.http

	code, body := httpGet(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "--source=http") {
		t.Errorf("/readyz answered %d %q, want 503 saying how to get going", code, body)
	}

	up := upload(t, n.client, fixtures.Path(t, "small_4_ids.csv"), client.UploadOptions{})
	waitTasksRun(t, n, 4)
	// The tasks have started and met the missing browser; give them the
	// time in which retries with a 20 ms base would have used up 5 attempts.
	time.Sleep(2 * time.Second)
	st := waitStatus(t, n.client, up.IDWork, 10*time.Second, func(*client.Status) bool { return true })
	if st.Status != client.StatusPending || st.Counts.Pending != 4 || st.Counts.Running != 0 ||
		st.Counts.Failed != 0 || st.Counts.Completed != 0 || len(st.Errors) != 0 {
		t.Errorf("work %s %s with counts %+v, errors %v: want its 4 donors pending",
			st.IDWork, st.Status, st.Counts, st.Errors)
	}
	if st.Source == nil || st.Source.Available || !strings.Contains(st.Source.Problem, "/nonexistent/chromium") {
		t.Errorf("status source %+v, want unavailable naming the missing Chromium", st.Source)
	}

	checkNoPermits(t, n)
	if requests := countRequests(t, m); requests != 0 {
		t.Errorf("the site saw %d requests from a node without a browser", requests)
	}
	if _, page := httpGet(t, base+"/works/"+up.IDWork); !strings.Contains(page, `id="source-banner" class="banner" role="status">`) ||
		!strings.Contains(page, "--source=http") {
		t.Errorf("the work page shows no banner about the source:\n%.2000s", page)
	}
	if lines := logLines(t, n.proc, "--source=http"); lines != 1 {
		t.Errorf("the node's log says how to get going in %d lines, want 1", lines)
	}
}

// TestBrowserEvidence fetches through mock-signal's pages in Chromium: a
// known donor completes, an unknown one fails with a screenshot and the
// page's HTML, both linked from the status.
func TestBrowserEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	needUIChromium(t)
	m := startMock(t, "--preview-delay", "100ms")
	n := launchNode(t, m, nodeSpec{name: "browser", dataDir: t.TempDir(), extra: []string{
		"--source", "browser", "--source-url", "http://" + m.addr, "--chromium", uiChromium,
	}})
	known := fixtures.IDs(t, 1)[0]
	input := filepath.Join(t.TempDir(), "donors.csv")
	if err := os.WriteFile(input, []byte("Donor_ID,_PATIENT\nSP1,"+known+"\nSP2,DO0000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	up := upload(t, n.client, input, client.UploadOptions{})
	st := waitStatus(t, n.client, up.IDWork, 2*time.Minute, finished)
	if st.Status != client.StatusCompletedWithErrors || st.Counts.Completed != 1 || len(st.Errors) != 1 {
		t.Fatalf("work %s %s with %d completed and errors %+v, want one of each", st.IDWork, st.Status, st.Counts.Completed, st.Errors)
	}
	e := st.Errors[0]
	if e.ID != "DO0000000" || !strings.Contains(e.Error, "unknown") {
		t.Errorf("error %+v, want DO0000000 unknown to the site", e)
	}
	base := "http://" + n.http
	if _, png := httpGet(t, base+e.EvidenceURL); e.EvidenceURL == "" || !strings.HasPrefix(png, "\x89PNG") {
		t.Errorf("evidence %q is not a PNG screenshot", e.EvidenceURL)
	}
	if _, page := httpGet(t, base+e.EvidenceHTMLURL); e.EvidenceHTMLURL == "" || !strings.Contains(page, "No results") {
		t.Errorf("evidence %q is not the page that showed no results: %.300q", e.EvidenceHTMLURL, page)
	}

	var buf bytes.Buffer
	if err := n.client.Download(context.Background(), st.IDWork, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	profile := strings.Split(strings.TrimRight(string(fixtures.Profile(t, known)), "\n"), "\n")
	got := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(got) != len(profile) || got[0] != "Type,SP1" || got[1] != profile[1] {
		t.Errorf("matrix starts %q, want SP1's column from the fixture %q", got[:min(2, len(got))], profile[:2])
	}
}

// httpGet fetches url and returns its status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp.StatusCode, string(data)
}

// checkNoPermits checks that the node's token bucket granted nothing.
func checkNoPermits(t *testing.T, n *node) {
	t.Helper()
	_, body := httpGet(t, "http://"+n.http+"/admin/cluster")
	var info client.ClusterInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("decoding /admin/cluster %q: %v", body, err)
	}
	if info.TokenBucket.GrantedTotal != 0 {
		t.Errorf("the token bucket granted %d permits to tasks that cannot fetch", info.TokenBucket.GrantedTotal)
	}
}

// waitTasksRun waits until n has started at least want tasks.
func waitTasksRun(t *testing.T, n *node, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for tasksRun(t, n, n.name) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s started fewer than %d tasks within 30s", n.name, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLines counts the lines of p's log that contain s.
func logLines(t *testing.T, p *proc, s string) int {
	t.Helper()
	data, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), s)
}
