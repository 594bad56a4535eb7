package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// fakeAPI is a stand-in of a node's API for the client commands.
type fakeAPI struct {
	srv *httptest.Server

	mu sync.Mutex
	// statuses are served one per status request; the last one repeats.
	statuses []client.Status
	polls    int
	// unavailable counts the first status requests answered 503.
	unavailable int
	uploads     []map[string]string
	limits      client.Limits
	puts        []client.Limits
	auth        []string
	queries     []string
}

const fakeWorkID = "5f0c2a8e-7d1b-4c3a-9e2f-0a1b2c3d4e5f"

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{limits: client.Limits{MinIntervalMS: 1000, MaxIntervalMS: 3000, MaxConcurrency: 2}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", f.upload)
	mux.HandleFunc("GET /status/{id}", f.status)
	mux.HandleFunc("GET /download/{id}", f.download)
	mux.HandleFunc("POST /cancel/{id}", f.cancel)
	mux.HandleFunc("GET /works", f.works)
	mux.HandleFunc("GET /admin/limits", f.getLimits)
	mux.HandleFunc("PUT /admin/limits", f.putLimits)
	mux.HandleFunc("GET /admin/cluster", f.cluster)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func fakeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fakeError(w http.ResponseWriter, code int, msg string) {
	fakeJSON(w, code, map[string]string{"error": msg})
}

func (f *fakeAPI) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		fakeError(w, http.StatusBadRequest, err.Error())
		return
	}
	seen := map[string]string{}
	for k, v := range r.MultipartForm.Value {
		seen[k] = v[0]
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		fakeError(w, http.StatusBadRequest, "no file")
		return
	}
	body, _ := io.ReadAll(file)
	seen["file"], seen["filename"] = string(body), hdr.Filename
	if strings.Contains(string(body), "garbage") {
		fakeError(w, http.StatusBadRequest, "not a CSV")
		return
	}
	f.mu.Lock()
	f.uploads = append(f.uploads, seen)
	f.mu.Unlock()
	fakeJSON(w, http.StatusAccepted, client.UploadResult{
		IDWork: fakeWorkID, TasksEnqueued: 2, Rows: 4, Duplicates: 1,
		Rejected:  []client.Rejection{{Row: 4, Error: "empty id"}},
		StatusURL: "/status/" + fakeWorkID, DownloadURL: "/download/" + fakeWorkID,
	})
}

func (f *fakeAPI) status(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.PathValue("id") != fakeWorkID || len(f.statuses) == 0 {
		fakeError(w, http.StatusNotFound, "unknown work")
		return
	}
	f.polls++
	if f.polls <= f.unavailable {
		fakeError(w, http.StatusServiceUnavailable, "restarting")
		return
	}
	st := f.statuses[min(f.polls-1-f.unavailable, len(f.statuses)-1)]
	fakeJSON(w, http.StatusOK, st)
}

func (f *fakeAPI) download(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case fakeWorkID:
		w.Header().Set("Content-Type", "text/csv")
		_, _ = io.WriteString(w, "result as "+r.URL.Query().Get("format")+"\n")
	case "running":
		fakeError(w, http.StatusConflict, "work is running")
	default:
		fakeError(w, http.StatusNotFound, "unknown work")
	}
}

func (f *fakeAPI) cancel(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != fakeWorkID {
		fakeError(w, http.StatusNotFound, "unknown work")
		return
	}
	fakeJSON(w, http.StatusOK, client.Status{IDWork: fakeWorkID, Status: client.StatusCancelled, Total: 3,
		Counts: client.Counts{Completed: 1, Cancelled: 2}})
}

func (f *fakeAPI) works(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.RawQuery)
	f.mu.Unlock()
	fakeJSON(w, http.StatusOK, client.WorkList{Works: []client.WorkSummary{
		{IDWork: fakeWorkID, Status: client.StatusRunning, Total: 7, Filename: "donors.csv"},
	}})
}

func (f *fakeAPI) getLimits(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	fakeJSON(w, http.StatusOK, f.limits)
}

func (f *fakeAPI) putLimits(w http.ResponseWriter, r *http.Request) {
	var l client.Limits
	if err := json.NewDecoder(r.Body).Decode(&l); err != nil {
		fakeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.puts = append(f.puts, l)
	if l.MinIntervalMS > l.MaxIntervalMS {
		fakeError(w, http.StatusBadRequest, "min interval above max interval")
		return
	}
	f.limits = l
	fakeJSON(w, http.StatusOK, f.limits)
}

func (f *fakeAPI) cluster(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	fakeJSON(w, http.StatusOK, client.ClusterInfo{
		Members: []client.Member{
			{Name: "node-a", GossipAddr: "127.0.0.1:7946", ActorAddr: "127.0.0.1:8090", HTTPAddr: "127.0.0.1:8080", Status: "alive", TasksRun: 3},
			{Name: "node-b", GossipAddr: "127.0.0.1:7947", ActorAddr: "127.0.0.1:8091", HTTPAddr: "127.0.0.1:8081", Status: "suspect"},
		},
		TokenBucket: client.TokenBucket{Member: "node-a", InFlight: 1, GrantedTotal: 42, Queued: 2},
	})
}

func (f *fakeAPI) pollCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls
}

func (f *fakeAPI) uploadsSeen() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads
}

// seen returns the Authorization headers, works queries and limits PUTs
// the server received.
func (f *fakeAPI) seen() (auth, queries []string, puts []client.Limits) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.auth, f.queries, f.puts
}

func (f *fakeAPI) setStatuses(sts ...client.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = sts
}

// cliRunResult is what a client command printed and returned.
type cliRunResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs cmd in-process against server with no environment but env.
func runCLI(t *testing.T, cmd cliCommand, server string, environ map[string]string, args ...string) cliRunResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if server != "" {
		args = append(args, "--server", server)
	}
	env := cliEnv{
		stdout:    &stdout,
		stderr:    &stderr,
		getenv:    func(k string) string { return environ[k] },
		poll:      time.Millisecond,
		lineEvery: time.Hour,
		now:       time.Now,
	}
	code := cmd(context.Background(), args, env)
	return cliRunResult{code, stdout.String(), stderr.String()}
}

// writeDonors writes a small upload file and returns its path.
func writeDonors(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "donors.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runningStatus() client.Status {
	return client.Status{IDWork: fakeWorkID, Status: client.StatusRunning, Total: 3, Percent: 33.3,
		Counts: client.Counts{Completed: 1, Running: 1, Pending: 1}, ETASeconds: 12}
}

func finalStatus(status string, failed int64) client.Status {
	st := client.Status{IDWork: fakeWorkID, Status: status, Total: 3, Percent: 100,
		Counts: client.Counts{Completed: 3 - failed, Failed: failed}}
	for i := range failed {
		st.Errors = append(st.Errors, client.TaskError{ID: fmt.Sprintf("DO%d", i), Error: "unknown id", Attempts: 1})
	}
	if status == client.StatusCompleted || status == client.StatusCompletedWithErrors {
		st.DownloadURL = "/download/" + fakeWorkID
	}
	return st
}

func TestCLIParseMixesFlagsAndArguments(t *testing.T) {
	fs := cliFlagSet("x A B [flags]", cliEnv{stderr: io.Discard})
	wait := fs.Bool("wait", false, "")
	n := fs.Int("n", 0, "")
	pos, code, ok := cliParse(fs, []string{"a", "--wait", "-n", "3", "--", "-b"}, 2)
	if !ok || code != 0 {
		t.Fatalf("cliParse failed with %d", code)
	}
	if !reflect.DeepEqual(pos, []string{"a", "-b"}) || !*wait || *n != 3 {
		t.Errorf("pos %q, wait %v, n %d", pos, *wait, *n)
	}
}
