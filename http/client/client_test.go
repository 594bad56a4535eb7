package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// newTestClient serves mux on a loopback test server and returns a Client
// for it.
func newTestClient(t *testing.T, mux http.Handler, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://host", "http://", "://x"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded, want an error", u)
		}
	}
}

func TestBaseURLPrefixIsKept(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prefix/works", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, WorkList{})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := New(srv.URL + "/prefix/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Works(context.Background(), WorksOptions{}); err != nil {
		t.Fatalf("Works: %v", err)
	}
	if got := c.BaseURL(); got != srv.URL+"/prefix" {
		t.Errorf("BaseURL = %q", got)
	}
}

func TestAPIErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want string
	}{
		{"json", http.StatusBadRequest, `{"error":"no id column"}`, "no id column"},
		{"text", http.StatusBadGateway, "upstream down\n", "upstream down"},
		{"empty", http.StatusServiceUnavailable, "", "Service Unavailable"},
		{"json without error", http.StatusConflict, `{"other":1}`, `{"other":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /admin/limits", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.code)
				_, _ = io.WriteString(w, tt.body)
			})
			c := newTestClient(t, mux)
			_, err := c.Limits(context.Background())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tt.code || apiErr.Message != tt.want {
				t.Errorf("got %d %q, want %d %q", apiErr.StatusCode, apiErr.Message, tt.code, tt.want)
			}
			if !IsStatus(err, tt.code) || IsStatus(err, 200) {
				t.Errorf("IsStatus disagrees with %v", err)
			}
		})
	}
}

func TestConnectionErrorIsNotAPIError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background(), "x")
	var apiErr *APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a connection error", err)
	}
}

func TestUpload(t *testing.T) {
	type seen struct {
		fields   map[string]string
		filename string
		ctype    string
		content  string
	}
	got := make(chan seen, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		}
		s := seen{fields: map[string]string{}}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "file" {
				s.filename, s.ctype, s.content = p.FileName(), p.Header.Get("Content-Type"), string(b)
				continue
			}
			s.fields[p.FormName()] = string(b)
		}
		got <- s
		writeJSON(w, http.StatusAccepted, map[string]any{
			"idwork": "0b6c", "tasks_enqueued": 2, "rows": 4, "duplicates": 1,
			"rejected":   []map[string]any{{"row": 3, "error": "empty id"}},
			"status_url": "/status/0b6c", "download_url": "/download/0b6c",
		})
	})
	c := newTestClient(t, mux)

	csv := "Donor_ID,_PATIENT\nA,1\nB,2\n,\nA,1\n"
	res, err := c.Upload(context.Background(), "donors.csv", strings.NewReader(csv),
		UploadOptions{MaxTasks: 5, IDColumn: "_PATIENT", LabelColumn: "Donor_ID"})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	want := &UploadResult{IDWork: "0b6c", TasksEnqueued: 2, Rows: 4, Duplicates: 1,
		Rejected: []Rejection{{Row: 3, Error: "empty id"}}, StatusURL: "/status/0b6c", DownloadURL: "/download/0b6c"}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	s := <-got
	wantFields := map[string]string{"max_tasks": "5", "id_column": "_PATIENT", "label_column": "Donor_ID"}
	if !reflect.DeepEqual(s.fields, wantFields) {
		t.Errorf("fields = %v, want %v", s.fields, wantFields)
	}
	if s.filename != "donors.csv" || s.ctype != "text/csv" || s.content != csv {
		t.Errorf("file part = %q %q %q", s.filename, s.ctype, s.content)
	}
}

func TestUploadFileSendsOnlyGivenFields(t *testing.T) {
	got := make(chan map[string]bool, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		}
		names := map[string]bool{}
		for k := range r.MultipartForm.Value {
			names[k] = true
		}
		for _, fh := range r.MultipartForm.File["file"] {
			names["file:"+fh.Filename] = true
		}
		got <- names
		writeJSON(w, http.StatusAccepted, UploadResult{IDWork: "w1"})
	})
	c := newTestClient(t, mux)

	path := filepath.Join(t.TempDir(), "ids.csv")
	if err := os.WriteFile(path, []byte("DO1\nDO2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := c.UploadFile(context.Background(), path, UploadOptions{})
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	if res.IDWork != "w1" {
		t.Errorf("idwork = %q", res.IDWork)
	}
	if names := <-got; !reflect.DeepEqual(names, map[string]bool{"file:ids.csv": true}) {
		t.Errorf("form = %v, want only the file", names)
	}
}

func TestUploadFileMissing(t *testing.T) {
	c := newTestClient(t, http.NotFoundHandler())
	_, err := c.UploadFile(context.Background(), filepath.Join(t.TempDir(), "none.csv"), UploadOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}

func TestUploadRejected(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{"upload too large"})
	})
	c := newTestClient(t, mux)
	big := strings.NewReader(strings.Repeat("DO1234567\n", 1<<16))
	_, err := c.Upload(context.Background(), "big.csv", big, UploadOptions{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusRequestEntityTooLarge || apiErr.Message != "upload too large" {
		t.Fatalf("err = %v, want the 413 answer", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestUploadReadError(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, http.StatusBadRequest, errorBody{"truncated"})
	})
	c := newTestClient(t, mux)
	_, err := c.Upload(context.Background(), "x.csv", failingReader{}, UploadOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the read error", err)
	}
}

const statusJSON = `{"idwork":"w/1","status":"completed_with_errors","total":3,
"counts":{"pending":0,"running":0,"completed":2,"failed":1,"cancelled":0},
"percent":100,"from_cache":1,"errors":[{"id":"DO9","label":"L9","error":"unknown id","attempts":1}],
"eta_seconds":0,"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:01:30Z",
"download_url":"/download/w%2F1","member":"node-a","upstream_requests":2}`

func TestStatus(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/status/w%2F1" || r.PathValue("id") != "w/1" {
			writeJSON(w, http.StatusNotFound, errorBody{"bad path " + r.URL.EscapedPath()})
			return
		}
		_, _ = io.WriteString(w, statusJSON)
	})
	c := newTestClient(t, mux)

	st, err := c.Status(context.Background(), "w/1")
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	want := &Status{
		IDWork: "w/1", Status: StatusCompletedWithErrors, Total: 3,
		Counts:      Counts{Completed: 2, Failed: 1},
		Percent:     100,
		FromCache:   1,
		Errors:      []TaskError{{ID: "DO9", Label: "L9", Error: "unknown id", Attempts: 1}},
		CreatedAt:   time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
		UpdatedAt:   time.Date(2024, 5, 1, 10, 1, 30, 0, time.UTC),
		DownloadURL: "/download/w%2F1", Member: "node-a", UpstreamRequests: 2,
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status = %+v\nwant %+v", st, want)
	}
	if !st.Finished() {
		t.Error("Finished() = false for completed_with_errors")
	}

	raw, err := c.StatusRaw(context.Background(), "w/1")
	if err != nil {
		t.Fatalf("StatusRaw: %v", err)
	}
	if strings.TrimSpace(string(raw)) != statusJSON {
		t.Errorf("raw = %s", raw)
	}
}

func TestStatusNotFound(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{"unknown work"})
	})
	c := newTestClient(t, mux)
	_, err := c.Status(context.Background(), "nope")
	if !IsStatus(err, http.StatusNotFound) {
		t.Fatalf("err = %v, want a 404 APIError", err)
	}
}

func TestFinished(t *testing.T) {
	for status, want := range map[string]bool{
		StatusPending: false, StatusRunning: false, StatusCompleted: true,
		StatusCompletedWithErrors: true, StatusFailed: true, StatusCancelled: true, "": false,
	} {
		if got := Finished(status); got != want {
			t.Errorf("Finished(%q) = %v", status, got)
		}
	}
}

func TestDownload(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /download/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "busy":
			writeJSON(w, http.StatusConflict, errorBody{"work is running"})
		default:
			w.Header().Set("Content-Type", "text/csv")
			_, _ = io.WriteString(w, "query="+r.URL.RawQuery)
		}
	})
	c := newTestClient(t, mux)

	tests := []struct{ format, want string }{
		{"", "query="},
		{FormatSigProfiler, "query=format=sigprofiler"},
	}
	for _, tt := range tests {
		var buf strings.Builder
		if err := c.Download(context.Background(), "w1", tt.format, &buf); err != nil {
			t.Fatalf("Download(%q): %v", tt.format, err)
		}
		if buf.String() != tt.want {
			t.Errorf("Download(%q) wrote %q, want %q", tt.format, buf.String(), tt.want)
		}
	}

	var buf strings.Builder
	err := c.Download(context.Background(), "busy", "", &buf)
	if !IsStatus(err, http.StatusConflict) || buf.Len() != 0 {
		t.Fatalf("err = %v, wrote %q; want a 409 and nothing written", err, buf.String())
	}
}

func TestCancel(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cancel/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "done" {
			writeJSON(w, http.StatusConflict, errorBody{"work already completed"})
			return
		}
		writeJSON(w, http.StatusOK, Status{IDWork: r.PathValue("id"), Status: StatusCancelled, Counts: Counts{Cancelled: 4}})
	})
	c := newTestClient(t, mux)

	st, err := c.Cancel(context.Background(), "w1")
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if st.IDWork != "w1" || st.Status != StatusCancelled || st.Counts.Cancelled != 4 {
		t.Errorf("status = %+v", st)
	}
	if _, err := c.Cancel(context.Background(), "done"); !IsStatus(err, http.StatusConflict) {
		t.Errorf("err = %v, want a 409", err)
	}
}

func TestWorks(t *testing.T) {
	queries := make(chan string, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /works", func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.RawQuery
		_, _ = io.WriteString(w, `{"works":[{"idwork":"w1","status":"running","total":7,
"filename":"a.csv","created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:05Z"}]}`)
	})
	c := newTestClient(t, mux)

	list, err := c.Works(context.Background(), WorksOptions{Limit: 10, Offset: 20})
	if err != nil {
		t.Fatalf("Works: %v", err)
	}
	want := []WorkSummary{{IDWork: "w1", Status: StatusRunning, Total: 7, Filename: "a.csv",
		CreatedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 5, 1, 10, 0, 5, 0, time.UTC)}}
	if !reflect.DeepEqual(list.Works, want) {
		t.Errorf("works = %+v", list.Works)
	}
	if q := <-queries; q != "limit=10&offset=20" {
		t.Errorf("query = %q", q)
	}
	if _, err := c.Works(context.Background(), WorksOptions{}); err != nil {
		t.Fatal(err)
	}
	if q := <-queries; q != "" {
		t.Errorf("query = %q, want none", q)
	}
}

func TestLimitsAndToken(t *testing.T) {
	var current = Limits{MinIntervalMS: 1000, MaxIntervalMS: 3000, MaxConcurrency: 2}
	auth := make(chan string, 3)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/limits", func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		writeJSON(w, http.StatusOK, current)
	})
	mux.HandleFunc("PUT /admin/limits", func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		var l Limits
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&l) != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{"bad body"})
			return
		}
		current = l
		writeJSON(w, http.StatusOK, current)
	})
	mux.HandleFunc("GET /status/{id}", func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		writeJSON(w, http.StatusOK, Status{})
	})
	c := newTestClient(t, mux, WithAdminToken("s3cret"))
	ctx := context.Background()

	got, err := c.Limits(ctx)
	if err != nil || *got != current {
		t.Fatalf("Limits = %+v, %v", got, err)
	}
	want := Limits{MinIntervalMS: 200, MaxIntervalMS: 500, MaxConcurrency: 4}
	got, err = c.SetLimits(ctx, want)
	if err != nil || *got != want {
		t.Fatalf("SetLimits = %+v, %v", got, err)
	}
	if _, err := c.Status(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	for i, wantAuth := range []string{"Bearer s3cret", "Bearer s3cret", ""} {
		if a := <-auth; a != wantAuth {
			t.Errorf("call %d Authorization = %q, want %q", i, a, wantAuth)
		}
	}
}

func TestCluster(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/cluster", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"members":[{"name":"a","gossip_addr":"127.0.0.1:7946",
"actor_addr":"127.0.0.1:8090","http_addr":"127.0.0.1:8080","status":"alive","tasks_run":5}],
"token_bucket":{"member":"a","in_flight":1,"granted_total":9,"queued":2}}`)
	})
	c := newTestClient(t, mux)
	got, err := c.Cluster(context.Background())
	if err != nil {
		t.Fatalf("Cluster: %v", err)
	}
	want := &ClusterInfo{
		Members: []Member{{Name: "a", GossipAddr: "127.0.0.1:7946", ActorAddr: "127.0.0.1:8090",
			HTTPAddr: "127.0.0.1:8080", Status: "alive", TasksRun: 5}},
		TokenBucket: TokenBucket{Member: "a", InFlight: 1, GrantedTotal: 9, Queued: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cluster = %+v", got)
	}
}
