package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/http/client"
)

func TestUploadPrintsWorkIDFirst(t *testing.T) {
	api := newFakeAPI(t)
	csv := "Donor_ID,_PATIENT\nL1,DO1\nL2,DO2\nL1,DO1\n,\n"
	path := writeDonors(t, csv)

	res := runCLI(t, cliUpload, api.srv.URL, nil,
		path, "--max-tasks", "5", "--id-column", "_PATIENT", "--label-column", "Donor_ID")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 2 || lines[0] != fakeWorkID {
		t.Fatalf("stdout = %q, want the work id then a summary", res.stdout)
	}
	if lines[1] != "2 distinct ids, 4 rows, 1 duplicates, 1 rejected" {
		t.Errorf("summary = %q", lines[1])
	}
	if !strings.Contains(res.stderr, "row 4 rejected: empty id") {
		t.Errorf("stderr = %q, want the rejected row", res.stderr)
	}
	want := []map[string]string{{"file": csv, "filename": "donors.csv",
		"max_tasks": "5", "id_column": "_PATIENT", "label_column": "Donor_ID"}}
	if !reflect.DeepEqual(api.uploadsSeen(), want) {
		t.Errorf("server saw %v, want %v", api.uploadsSeen(), want)
	}
	if api.pollCount() != 0 {
		t.Errorf("status polled %d times without --wait", api.pollCount())
	}
}

func TestUploadWaitExitCodes(t *testing.T) {
	tests := []struct {
		status   string
		failed   int64
		wantCode int
	}{
		{client.StatusCompleted, 0, 0},
		{client.StatusCompletedWithErrors, 1, 1},
		{client.StatusFailed, 3, 1},
		{client.StatusCancelled, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			api := newFakeAPI(t)
			api.setStatuses(runningStatus(), runningStatus(), finalStatus(tt.status, tt.failed))

			res := runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "DO1\nDO2\nDO3\n"), "--wait")
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", res.code, tt.wantCode, res.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			if lines[0] != fakeWorkID || len(lines) != 3 {
				t.Fatalf("stdout = %q", res.stdout)
			}
			if !strings.HasPrefix(lines[2], fakeWorkID+" "+tt.status+":") {
				t.Errorf("final line = %q", lines[2])
			}
			if api.pollCount() != 3 {
				t.Errorf("polled %d times, want 3", api.pollCount())
			}
			ended := "ended " + tt.status + " with "
			if tt.wantCode == 0 && strings.Contains(res.stderr, "ended") {
				t.Errorf("stderr = %q, want no failure line", res.stderr)
			}
			if tt.wantCode != 0 && !strings.Contains(res.stderr, fmt.Sprintf("%s%d errors", ended, tt.failed)) {
				t.Errorf("stderr = %q, want %q and the error count", res.stderr, ended)
			}
			if !strings.Contains(res.stderr, "running  33.3% 1/3 done") {
				t.Errorf("stderr = %q, want a progress line", res.stderr)
			}
		})
	}
}

func TestUploadWaitOutWritesResult(t *testing.T) {
	api := newFakeAPI(t)
	api.setStatuses(runningStatus(), finalStatus(client.StatusCompleted, 0))
	dir := t.TempDir()
	out := filepath.Join(dir, "matrix.tsv")

	res := runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "DO1\n"), "--out", out, "--format", "sigprofiler")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "result as sigprofiler\n" {
		t.Fatalf("out file = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the result", len(entries))
	}
}

func TestUploadWaitOutSkipsFailedWork(t *testing.T) {
	api := newFakeAPI(t)
	api.setStatuses(finalStatus(client.StatusFailed, 3))
	out := filepath.Join(t.TempDir(), "matrix.csv")

	res := runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "DO1\n"), "--wait", "--out", out)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("out file exists for a failed work: %v", err)
	}
}

func TestUploadUsageErrors(t *testing.T) {
	api := newFakeAPI(t)
	file := writeDonors(t, "DO1\n")
	tests := map[string][]string{
		"no file":         {},
		"two files":       {file, file},
		"missing file":    {filepath.Join(t.TempDir(), "none.csv")},
		"directory":       {t.TempDir()},
		"unknown flag":    {file, "--colour"},
		"bad format":      {file, "--format", "xlsx"},
		"bad max tasks":   {file, "--max-tasks", "-1"},
		"not a number":    {file, "--max-tasks", "many"},
		"bad server flag": {file, "--server", "127.0.0.1:8080"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			res := runCLI(t, cliUpload, "", map[string]string{"SIGNALSCRAPE_SERVER": api.srv.URL}, args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "usage: signalscrape upload FILE") {
				t.Errorf("stderr = %q, want the usage", res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing", res.stdout)
			}
		})
	}
	if len(api.uploadsSeen()) != 0 {
		t.Errorf("%d uploads reached the server", len(api.uploadsSeen()))
	}
}

func TestUploadServerFromEnvironment(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliUpload, "", map[string]string{"SIGNALSCRAPE_SERVER": api.srv.URL}, writeDonors(t, "DO1\n"))
	if res.code != 0 || !strings.HasPrefix(res.stdout, fakeWorkID+"\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

func TestUploadFailures(t *testing.T) {
	api := newFakeAPI(t)
	down := httptest.NewServer(nil)
	down.Close()

	res := runCLI(t, cliUpload, down.URL, nil, writeDonors(t, "DO1\n"))
	if res.code != 1 || !strings.Contains(res.stderr, "is a node running at "+down.URL) {
		t.Errorf("server down: exit %d, stderr %q", res.code, res.stderr)
	}

	res = runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "garbage\n"))
	if res.code != 1 || !strings.Contains(res.stderr, "not a CSV (HTTP 400)") {
		t.Errorf("rejected upload: exit %d, stderr %q", res.code, res.stderr)
	}

	res = runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "DO1\n"), "--wait")
	if res.code != 1 || !strings.Contains(res.stderr, "no work "+fakeWorkID) {
		t.Errorf("vanished work: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestUploadWaitRidesOutUnavailableServer(t *testing.T) {
	tests := []struct {
		unavailable int
		wantCode    int
	}{
		{maxPollFailures - 1, 0},
		{maxPollFailures, 1},
	}
	for _, tt := range tests {
		api := newFakeAPI(t)
		api.setStatuses(finalStatus(client.StatusCompleted, 0))
		api.mu.Lock()
		api.unavailable = tt.unavailable
		api.mu.Unlock()

		res := runCLI(t, cliUpload, api.srv.URL, nil, writeDonors(t, "DO1\n"), "--wait")
		if res.code != tt.wantCode {
			t.Errorf("%d failures: exit %d, want %d; stderr %q", tt.unavailable, res.code, tt.wantCode, res.stderr)
		}
		if tt.wantCode == 1 && !strings.Contains(res.stderr, "restarting (HTTP 503)") {
			t.Errorf("stderr = %q, want the server's reason", res.stderr)
		}
	}
}
