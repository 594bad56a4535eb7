package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

const (
	doneID    = "0b9e3d5a-1c2f-4e8a-9b7d-2f6c1a3e5d70"
	runningID = "7f1c2e3d-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
	unknownID = "11111111-2222-4333-8444-555555555555"
)

// worksBackend has a finished work with a result and a failed id, and a
// running one.
func worksBackend() *fakeBackend {
	fb := newFakeBackend()
	created := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	fb.statuses[doneID] = &messages.WorkStatus{
		Found: true, Idwork: doneID, Status: persistence.StatusCompletedWithErrors, Total: 3,
		Counts: &messages.Counts{Completed: 2, Failed: 1}, Percent: 100, FromCache: 1,
		Errors: []*messages.TaskError{
			{Id: "DO9", Label: "=cmd", Error: "donor unknown to the site", Attempts: 1},
			{Id: "DO8", Label: "SP8", Error: "-bad page", Attempts: 5, EvidenceBlob: "evidence/x", EvidenceHtmlBlob: "evidence/x.html"},
		},
		CreatedAtUnixMs: created, UpdatedAtUnixMs: created + 90_000,
		ResultBlob: "results/" + doneID + ".csv", Member: "node-a", UpstreamRequests: 7,
	}
	fb.statuses[runningID] = &messages.WorkStatus{
		Found: true, Idwork: runningID, Status: persistence.StatusRunning, Total: 3,
		Counts: &messages.Counts{Pending: 2, Running: 1}, EtaSeconds: 12.5,
	}
	fb.store.blobs["results/"+doneID+".csv"] = blob{data: []byte("Type,SP1\nA[C>A]A,3\n"), contentType: "text/csv"}
	fb.store.blobs["evidence/x"] = blob{data: []byte("\x89PNG"), contentType: "image/png"}
	fb.store.blobs["evidence/x.html"] = blob{data: []byte("<html><script>x()</script></html>"), contentType: "text/html; charset=utf-8"}
	return fb
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	return send(h, http.MethodGet, target, nil, "")
}

func TestStatus(t *testing.T) {
	h := newHandler(worksBackend(), Config{})
	rec := get(h, "/status/"+doneID)
	got := decode[map[string]any](t, rec, http.StatusOK)
	want := map[string]any{
		"idwork": doneID, "status": "completed_with_errors", "total": 3.0, "percent": 100.0, "from_cache": 1.0,
		"eta_seconds": 0.0, "created_at": "2025-03-01T10:00:00Z", "updated_at": "2025-03-01T10:01:30Z",
		"download_url": "/download/" + doneID, "member": "node-a", "upstream_requests": 7.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v; want %v", k, got[k], v)
		}
	}
	counts := got["counts"].(map[string]any)
	if counts["completed"] != 2.0 || counts["failed"] != 1.0 || counts["pending"] != 0.0 || len(counts) != 5 {
		t.Errorf("counts %v", counts)
	}
	errs := got["errors"].([]any)
	first, second := errs[0].(map[string]any), errs[1].(map[string]any)
	if first["id"] != "DO9" || first["label"] != "=cmd" || first["attempts"] != 1.0 || first["evidence_url"] != nil ||
		first["evidence_html_url"] != nil {
		t.Errorf("first error %v", first)
	}
	if second["evidence_url"] != "/evidence/"+doneID+"/1" || second["evidence_html_url"] != "/evidence/"+doneID+"/1/html" {
		t.Errorf("second error %v", second)
	}
	if src, ok := got["source"].(map[string]any); !ok || src["name"] != "http:test" || src["available"] != true || src["problem"] != nil {
		t.Errorf("source %v", got["source"])
	}

	running := decode[map[string]any](t, get(h, "/status/"+runningID), http.StatusOK)
	if _, ok := running["download_url"]; ok || running["eta_seconds"] != 12.5 {
		t.Errorf("running work %v", running)
	}
	if errs, ok := running["errors"].([]any); !ok || len(errs) != 0 {
		t.Errorf("errors of a running work must be an empty list: %v", running["errors"])
	}
}

func TestWorkIDs(t *testing.T) {
	h := newHandler(worksBackend(), Config{})
	for _, path := range []string{"/status/", "/download/", "/cancel/"} {
		method := http.MethodGet
		if path == "/cancel/" {
			method = http.MethodPost
		}
		wantError(t, send(h, method, path+unknownID, nil, ""), http.StatusNotFound, "no work")
		for _, bad := range []string{
			"abc", strings.ToUpper(doneID), "{" + doneID + "}", "urn:uuid:" + doneID,
			strings.ReplaceAll(doneID, "-", ""), doneID + "0", "%2e%2e", strings.Repeat("a", 5000),
		} {
			wantError(t, send(h, method, path+bad, nil, ""), http.StatusBadRequest, "malformed work id")
		}
	}
}

func TestDownload(t *testing.T) {
	h := newHandler(worksBackend(), Config{})
	for _, target := range []string{"/download/" + doneID, "/download/" + doneID + "?format=csv"} {
		rec := get(h, target)
		if rec.Code != http.StatusOK || rec.Body.String() != "Type,SP1\nA[C>A]A,3\n" {
			t.Fatalf("%s: %d %q", target, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
			rec.Header().Get("Content-Disposition") != `attachment; filename="signalscrape-`+doneID+`.csv"` {
			t.Fatalf("headers %v", rec.Header())
		}
	}
	wantError(t, get(h, "/download/"+runningID), http.StatusConflict, "not finished yet (status running)")
	wantError(t, get(h, "/download/"+doneID+"?format=xlsx"), http.StatusBadRequest, `unknown format "xlsx"`)
	wantError(t, get(h, "/download/"+doneID+"?partial=yes"), http.StatusBadRequest, "partial must be 1 or 0")
}

func TestDownloadWithoutResult(t *testing.T) {
	fb := worksBackend()
	fb.statuses[doneID].ResultBlob = ""
	wantError(t, get(newHandler(fb, Config{}), "/download/"+doneID), http.StatusConflict, "has no result")

	fb = worksBackend()
	fb.store.blobs = map[string]blob{}
	wantError(t, get(newHandler(fb, Config{}), "/download/"+doneID), http.StatusInternalServerError, "internal error")
}

func TestDownloadErrors(t *testing.T) {
	rec := get(newHandler(worksBackend(), Config{}), "/download/"+doneID+"?format=errors")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), "-errors.csv") {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"id", "label", "error", "attempts"},
		{"DO9", "'=cmd", "donor unknown to the site", "1"},
		{"DO8", "SP8", "'-bad page", "5"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d %q; want %q", i, rows[i], want[i])
		}
	}
}

func TestEvidence(t *testing.T) {
	h := newHandler(worksBackend(), Config{})
	rec := get(h, "/evidence/"+doneID+"/1")
	if rec.Code != http.StatusOK || rec.Body.String() != "\x89PNG" || rec.Header().Get("Content-Type") != "image/png" ||
		rec.Header().Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	for _, n := range []string{"0", "2", "-1", "x"} {
		wantError(t, get(h, "/evidence/"+doneID+"/"+n), http.StatusNotFound, "no evidence")
		wantError(t, get(h, "/evidence/"+doneID+"/"+n+"/html"), http.StatusNotFound, "no evidence")
	}

	rec = get(h, "/evidence/"+doneID+"/1/html")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "<html>") ||
		rec.Header().Get("Content-Security-Policy") != "sandbox" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") ||
		!strings.HasSuffix(rec.Header().Get("Content-Disposition"), `.html"`) {
		t.Fatalf("page HTML: %d %v", rec.Code, rec.Header())
	}
}

// TestStatusSourceUnavailable shows the node's source problem in the status.
func TestStatusSourceUnavailable(t *testing.T) {
	fb := worksBackend()
	fb.sourceErr = errors.New("source unavailable: no Chromium found; install it")
	got := decode[StatusJSON](t, get(newHandler(fb, Config{}), "/status/"+runningID), http.StatusOK)
	if got.Source == nil || got.Source.Available || !strings.Contains(got.Source.Problem, "no Chromium") {
		t.Fatalf("source %+v, want unavailable with the reason", got.Source)
	}
}

func TestCancel(t *testing.T) {
	fb := worksBackend()
	fb.cancelled[runningID] = &messages.WorkStatus{Found: true, Idwork: runningID, Status: persistence.StatusCancelled, Counts: &messages.Counts{Cancelled: 3}}
	fb.cancelled[doneID] = &messages.WorkStatus{Found: true, Idwork: doneID, Status: persistence.StatusCompleted, Error: "work already finished (completed)"}
	h := newHandler(fb, Config{})

	got := decode[StatusJSON](t, send(h, http.MethodPost, "/cancel/"+runningID, nil, ""), http.StatusOK)
	if got.Status != "cancelled" || got.Counts.Cancelled != 3 || got.IDWork != runningID {
		t.Fatalf("cancel answer %+v", got)
	}
	wantError(t, send(h, http.MethodPost, "/cancel/"+doneID, nil, ""), http.StatusConflict, "already finished")
	wantError(t, get(h, "/cancel/"+runningID), http.StatusMethodNotAllowed, "not allowed")

	// A cancel the store did not take is worth repeating: 503, not 409.
	fb.cancelled[runningID] = &messages.WorkStatus{Found: true, Idwork: runningID, Status: persistence.StatusRunning, Error: "could not record the cancel; try again", Retry: true}
	rec := send(h, http.MethodPost, "/cancel/"+runningID, nil, "")
	wantError(t, rec, http.StatusServiceUnavailable, "try again")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
}

func TestWorks(t *testing.T) {
	fb := newFakeBackend()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	for i := range 3 {
		fb.store.works = append(fb.store.works, persistence.WorkSummary{
			ID: []string{doneID, runningID, unknownID}[i], Status: "running", Total: int64(i), Filename: "a.csv",
			CreatedAt: at, UpdatedAt: at.Add(time.Minute),
		})
	}
	h := newHandler(fb, Config{})
	got := decode[worksJSON](t, get(h, "/works?limit=2&offset=1"), http.StatusOK)
	if len(got.Works) != 2 || got.Works[0].IDWork != runningID || got.Works[0].CreatedAt != "2025-03-01T09:00:00Z" ||
		got.Works[0].UpdatedAt != "2025-03-01T09:01:00Z" || got.Works[0].Filename != "a.csv" || got.Works[1].Total != 2 {
		t.Fatalf("works %+v", got)
	}
	if fb.store.limit != 2 || fb.store.offset != 1 {
		t.Fatalf("store asked for limit %d offset %d", fb.store.limit, fb.store.offset)
	}
	decode[worksJSON](t, get(h, "/works"), http.StatusOK)
	if fb.store.limit != defaultWorksLimit || fb.store.offset != 0 {
		t.Fatalf("defaults: limit %d offset %d", fb.store.limit, fb.store.offset)
	}
	if rec := get(h, "/works?offset=10"); !strings.Contains(rec.Body.String(), `"works":[]`) {
		t.Fatalf("an empty page must be an empty list: %s", rec.Body)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "offset=-1", "offset=1e3"} {
		wantError(t, get(h, "/works?"+q), http.StatusBadRequest, "must be a whole number")
	}
}
