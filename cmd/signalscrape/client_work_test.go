package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/http/client"
)

func TestStatusCommand(t *testing.T) {
	api := newFakeAPI(t)
	api.setStatuses(finalStatus(client.StatusCompletedWithErrors, 1))

	res := runCLI(t, cliStatus, api.srv.URL, nil, fakeWorkID)
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	for _, want := range []string{
		"work      " + fakeWorkID + "\n",
		"status    completed_with_errors (100.0%)\n",
		"tasks     3: 2 completed, 1 failed",
		"result    " + api.srv.URL + "/download/" + fakeWorkID + "\n",
		"\n  DO0 after 1 attempts: unknown id\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}

	res = runCLI(t, cliStatus, api.srv.URL, nil, fakeWorkID, "--json")
	var st client.Status
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &st) != nil || st.Counts.Failed != 1 {
		t.Fatalf("--json: exit %d, stdout %q", res.code, res.stdout)
	}
}

func TestStatusCommandErrors(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliStatus, api.srv.URL, nil, "nope")
	if res.code != 1 || res.stderr != "signalscrape status: no work nope\n" {
		t.Errorf("unknown work: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, cliStatus, api.srv.URL, nil)
	if res.code != 2 || !strings.Contains(res.stderr, "usage: signalscrape status ID") {
		t.Errorf("no id: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, cliStatus, api.srv.URL, nil, "-h")
	if res.code != 0 || !strings.Contains(res.stderr, "-json") {
		t.Errorf("-h: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestDownloadCommand(t *testing.T) {
	api := newFakeAPI(t)

	res := runCLI(t, cliDownload, api.srv.URL, nil, fakeWorkID, "--format", "long")
	if res.code != 0 || res.stdout != "result as long\n" {
		t.Errorf("to stdout: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}

	out := filepath.Join(t.TempDir(), "result.csv")
	res = runCLI(t, cliDownload, api.srv.URL, nil, fakeWorkID, "--out", out)
	got, err := os.ReadFile(out)
	if res.code != 0 || res.stdout != "" || string(got) != "result as csv\n" {
		t.Errorf("to file: exit %d, stdout %q, file %q, %v", res.code, res.stdout, got, err)
	}

	res = runCLI(t, cliDownload, api.srv.URL, nil, "running", "--out", filepath.Join(t.TempDir(), "r.csv"))
	if res.code != 1 || !strings.Contains(res.stderr, "work running: work is running") {
		t.Errorf("unfinished: exit %d, stderr %q", res.code, res.stderr)
	}

	zipOut := filepath.Join(t.TempDir(), "plots.zip")
	res = runCLI(t, cliDownload, api.srv.URL, nil, fakeWorkID, "--format", "plots", "--out", zipOut)
	got, err = os.ReadFile(zipOut)
	if res.code != 0 || string(got) != "result as plots\n" {
		t.Errorf("plots: exit %d, file %q, %v, stderr %q", res.code, got, err, res.stderr)
	}
	res = runCLI(t, cliDownload, api.srv.URL, nil, fakeWorkID, "--format", "plots")
	if res.code != 2 || !strings.Contains(res.stderr, "--format plots is a zip: give --out FILE") {
		t.Errorf("plots to stdout: exit %d, stderr %q", res.code, res.stderr)
	}

	res = runCLI(t, cliDownload, api.srv.URL, nil, fakeWorkID, "--format", "xml")
	if res.code != 2 || !strings.Contains(res.stderr, `unknown format "xml"`) {
		t.Errorf("bad format: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestDownloadFailureLeavesNoFile(t *testing.T) {
	api := newFakeAPI(t)
	dir := t.TempDir()
	res := runCLI(t, cliDownload, api.srv.URL, nil, "running", "--out", filepath.Join(dir, "r.csv"))
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("dir holds %d entries after a failed download", len(entries))
	}
}

func TestCancelCommand(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliCancel, api.srv.URL, nil, fakeWorkID)
	if res.code != 0 || !strings.HasPrefix(res.stdout, fakeWorkID+" cancelled: 1/3 completed, 0 failed, 2 cancelled") {
		t.Errorf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, cliCancel, api.srv.URL, nil, "other")
	if res.code != 1 || !strings.Contains(res.stderr, "no work other") {
		t.Errorf("unknown work: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestWorksCommand(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliWorks, api.srv.URL, nil, "--limit", "5")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "IDWORK") || !strings.HasPrefix(lines[1], fakeWorkID+"  running") ||
		!strings.HasSuffix(lines[1], "donors.csv") {
		t.Errorf("stdout = %q", res.stdout)
	}
	if _, queries, _ := api.seen(); len(queries) != 1 || queries[0] != "limit=5" {
		t.Errorf("queries = %q", queries)
	}
	if res := runCLI(t, cliWorks, api.srv.URL, nil, "--limit", "0"); res.code != 2 {
		t.Errorf("--limit 0: exit %d, want 2", res.code)
	}
}
