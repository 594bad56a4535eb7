package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// part is one form field; a non-empty filename makes it a file.
type part struct {
	name, filename, value string
}

func form(t *testing.T, parts ...part) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p.value)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

func newHandler(fb *fakeBackend, cfg Config) http.Handler {
	cfg.Backend = fb
	return New(cfg)
}

func send(h http.Handler, method, target string, body io.Reader, contentType string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func postForm(t *testing.T, h http.Handler, target string, parts ...part) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := form(t, parts...)
	return send(h, http.MethodPost, target, body, ct)
}

// decode checks the status and JSON content type and decodes the body.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder, status int) T {
	t.Helper()
	var v T
	if rec.Code != status {
		t.Fatalf("status %d; want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q; want application/json", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", rec.Body, err)
	}
	return v
}

// wantError checks an error answer's status and that its message has want.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	body := decode[errorBody](t, rec, status)
	if !strings.Contains(body.Error, want) {
		t.Fatalf("error %q; want it to contain %q", body.Error, want)
	}
}

func TestUploadRealFixture(t *testing.T) {
	data, err := os.ReadFile(fixtures.Path(t, "pcawg_ids_matched_DonorID.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fb := newFakeBackend()
	rec := postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "pcawg_ids_matched_DonorID.csv", string(data)})
	got := decode[uploadAnswer](t, rec, http.StatusAccepted)
	if got.TasksEnqueued != 1740 || got.Rows != 1860 || got.Duplicates != 120 || len(got.Rejected) != 0 {
		t.Fatalf("answer %+v", got)
	}
	if u, err := uuid.Parse(got.IDWork); err != nil || u.String() != got.IDWork {
		t.Fatalf("idwork %q is not a lowercase UUID", got.IDWork)
	}
	if got.StatusURL != "/status/"+got.IDWork || got.DownloadURL != "/download/"+got.IDWork {
		t.Fatalf("urls %q %q", got.StatusURL, got.DownloadURL)
	}
	if !strings.Contains(rec.Body.String(), `"rejected":[]`) {
		t.Fatalf("rejected must be an empty list: %s", rec.Body)
	}

	c := fb.created[0]
	if c.Idwork != got.IDWork || c.UploadBlob != "uploads/"+got.IDWork+".csv" || c.Source != "http:test" ||
		c.Filename != "pcawg_ids_matched_DonorID.csv" || len(c.Entries) != 1860 || c.Rows != 1860 || c.Duplicates != 120 {
		t.Fatalf("work created %v", c)
	}
	if c.Entries[0].Label != "SP101724" || c.Entries[0].Id != "DO46416" {
		t.Fatalf("first entry %v", c.Entries[0])
	}
	if !bytes.Equal(fb.originals[0], data) {
		t.Fatal("the stored original differs from the upload")
	}
}

func TestUploadOptions(t *testing.T) {
	in := "a,Donor,Tumour\nx,DO1,T1\ny,DO2,T2\nz,DO3,T3\n"
	cases := []struct {
		name   string
		target string
		parts  []part
		tasks  int
		label  string
	}{
		{"fields before the file", "/upload", []part{{"id_column", "", "Donor"}, {"label_column", "", "Tumour"}, {"file", "a.csv", in}}, 3, "T1"},
		{"fields after the file", "/upload", []part{{"file", "a.csv", in}, {"label_column", "", "Tumour"}, {"max_tasks", "", "2"}, {"id_column", "", "Donor"}}, 2, "T1"},
		{"query", "/upload?id_column=Donor&max_tasks=1", []part{{"file", "a.csv", in}}, 1, "DO1"},
		{"max tasks zero keeps all", "/upload?id_column=Donor&max_tasks=0", []part{{"file", "a.csv", in}}, 3, "DO1"},
		{"unknown field ignored", "/upload?id_column=Donor", []part{{"note", "", "hello"}, {"file", "a.csv", in}}, 3, "DO1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := newFakeBackend()
			got := decode[uploadAnswer](t, postForm(t, newHandler(fb, Config{}), c.target, c.parts...), http.StatusAccepted)
			if got.TasksEnqueued != c.tasks || fb.created[0].Entries[0].Label != c.label {
				t.Fatalf("tasks %d label %q; want %d %q", got.TasksEnqueued, fb.created[0].Entries[0].Label, c.tasks, c.label)
			}
		})
	}
}

func TestUploadRejectedRows(t *testing.T) {
	fb := newFakeBackend()
	rec := postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "a.csv", "label,id\nA,DO1\nB,a/b\n"})
	got := decode[uploadAnswer](t, rec, http.StatusAccepted)
	if len(got.Rejected) != 1 || got.Rejected[0].Row != 3 || !strings.Contains(got.Rejected[0].Error, "'/'") {
		t.Fatalf("rejected %+v", got.Rejected)
	}
	if len(fb.created[0].Rejected) != 1 || got.RejectedTotal != 1 {
		t.Fatalf("work rejections %v total %d", fb.created[0].Rejected, got.RejectedTotal)
	}
}

func TestUploadFilename(t *testing.T) {
	fb := newFakeBackend()
	rec := postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "dir/r\u00e9port\u202e.csv", "DO1\n"})
	decode[uploadAnswer](t, rec, http.StatusAccepted)
	if got := fb.created[0].Filename; got != "r\u00e9port.csv" {
		t.Fatalf("filename %q", got)
	}
	if displayName(strings.Repeat("é", 300)) != strings.Repeat("é", maxFilenameLen) || displayName(`a\b\..\c.csv`) != "c.csv" ||
		displayName("a\x07b\x00.csv") != "ab.csv" || displayName("\xff.csv") != "\uFFFD.csv" {
		t.Fatal("displayName does not cut, drop directories or drop control characters")
	}
}

func TestUploadErrors(t *testing.T) {
	cases := []struct {
		name   string
		target string
		parts  []part
		status int
		want   string
	}{
		{"missing file", "/upload", []part{{"max_tasks", "", "3"}}, 400, `"file"`},
		{"file without filename is still missing", "/upload", []part{{"other", "a.csv", "DO1\n"}}, 400, `"file"`},
		{"two files", "/upload", []part{{"file", "a.csv", "DO1\n"}, {"file", "b.csv", "DO2\n"}}, 400, "more than one"},
		{"bad max_tasks", "/upload", []part{{"max_tasks", "", "many"}, {"file", "a.csv", "DO1\n"}}, 400, "max_tasks"},
		{"negative max_tasks", "/upload?max_tasks=-1", []part{{"file", "a.csv", "DO1\n"}}, 400, "max_tasks"},
		{"late bad max_tasks", "/upload", []part{{"file", "a.csv", "DO1\n"}, {"max_tasks", "", "1.5"}}, 400, "max_tasks"},
		{"long field", "/upload", []part{{"id_column", "", strings.Repeat("x", 2000)}, {"file", "a.csv", "DO1\n"}}, 400, "longer than"},
		{"empty file", "/upload", []part{{"file", "a.csv", ""}}, 400, "empty"},
		{"binary", "/upload", []part{{"file", "a.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}}, 400, "binary"},
		{"no id column", "/upload", []part{{"file", "a.csv", "a,b\nx,y\n"}}, 400, "no id column"},
		{"unknown id column", "/upload?id_column=patient", []part{{"file", "a.csv", "a,b\nx,DO1\n"}}, 400, `column "patient" not found; the columns are "a", "b"`},
		{"late field cannot fix", "/upload", []part{{"file", "a.csv", "a,b\nx,DO1\n"}, {"id_column", "", "c"}}, 400, `column "c" not found`},
		{"no accepted row", "/upload", []part{{"file", "a.csv", "label,id\nA,DO 1\n"}}, 400, "no row was accepted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := newFakeBackend()
			wantError(t, postForm(t, newHandler(fb, Config{}), c.target, c.parts...), c.status, c.want)
			if len(fb.created) != 0 {
				t.Fatal("a work was submitted")
			}
		})
	}
}

func TestUploadLateFieldFixesFile(t *testing.T) {
	fb := newFakeBackend()
	rec := postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "a.csv", "a,b\nx,DO1\n"}, part{"id_column", "", "b"})
	if got := decode[uploadAnswer](t, rec, http.StatusAccepted); got.TasksEnqueued != 1 {
		t.Fatalf("answer %+v", got)
	}
	if string(fb.originals[0]) != "a,b\nx,DO1\n" {
		t.Fatalf("original %q", fb.originals[0])
	}
}

func TestUploadContentType(t *testing.T) {
	h := newHandler(newFakeBackend(), Config{})
	for _, ct := range []string{"", "application/json", "text/csv", "multipart/form-data"} {
		rec := send(h, http.MethodPost, "/upload", strings.NewReader("DO1\n"), ct)
		if ct == "multipart/form-data" {
			wantError(t, rec, http.StatusBadRequest, "reading the form")
			continue
		}
		wantError(t, rec, http.StatusUnsupportedMediaType, "multipart/form-data")
	}
}

func TestUploadTooLarge(t *testing.T) {
	big := "label,id\n" + strings.Repeat("A,DO1\n", 400)
	cases := []struct {
		name  string
		parts []part
	}{
		{"file over the limit", []part{{"file", "a.csv", big}}},
		{"form over the limit", []part{{"junk", "", strings.Repeat("x", 100<<10)}, {"file", "a.csv", "DO1\n"}}},
		{"binary over the limit", []part{{"file", "a.bin", strings.Repeat("\x00", 2000)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := newFakeBackend()
			rec := postForm(t, newHandler(fb, Config{MaxUploadBytes: 1024}), "/upload", c.parts...)
			wantError(t, rec, http.StatusRequestEntityTooLarge, "larger than")
			if rec.Header().Get("Connection") != "close" || len(fb.created) != 0 {
				t.Fatalf("connection %q, %d works", rec.Header().Get("Connection"), len(fb.created))
			}
		})
	}
}

func TestUploadTooLargeOverNetwork(t *testing.T) {
	srv := httptest.NewServer(newHandler(newFakeBackend(), Config{MaxUploadBytes: 1024}))
	defer srv.Close()
	body, ct := form(t, part{"file", "a.csv", "label,id\n" + strings.Repeat("A,DO1\n", 2000)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/upload", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorBody
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, body %+v, %v", resp.StatusCode, e, err)
	}
	if !resp.Close {
		t.Fatal("the server keeps the connection of a refused upload")
	}
}

func TestUploadSubmitFails(t *testing.T) {
	fb := newFakeBackend()
	fb.submitErr = errors.New("disk full")
	rec := postForm(t, newHandler(fb, Config{}), "/upload", part{"file", "a.csv", "DO1\n"})
	wantError(t, rec, http.StatusInternalServerError, "internal error")
	if strings.Contains(rec.Body.String(), "disk full") {
		t.Fatal("the answer leaks the internal error")
	}
}
