package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// testMaxUpload is the upload limit of the node in TestSingleNode.
const testMaxUpload = 1 << 20

// badRequest is one bad call: its method, path, body and content type, and
// the status and words the answer must have.
type badRequest struct {
	name, method, path string
	body               []byte
	contentType        string
	status             int
	want               string
}

// checkBadInput sends bad uploads and calls to a node that finished work
// done: each gets a 4xx naming its problem, and the earlier work still
// reports and downloads the same afterwards. Then it uploads one file four
// times at once: four works, each with the same matrix.
func checkBadInput(t *testing.T, n *node, done string) {
	beforeStatus, beforeMatrix := workSnapshot(t, n, done)
	for _, c := range badRequests(t) {
		t.Run(c.name, func(t *testing.T) {
			status, msg := sendRaw(t, n, c.method, c.path, bytes.NewReader(c.body), c.contentType)
			if status != c.status || !strings.Contains(msg, c.want) {
				t.Errorf("status %d, error %q; want %d and %q", status, msg, c.status, c.want)
			}
		})
	}
	t.Run("over the size limit", func(t *testing.T) { checkTooLarge(t, n) })
	afterStatus, afterMatrix := workSnapshot(t, n, done)
	if afterStatus != beforeStatus || afterMatrix != beforeMatrix {
		t.Errorf("the earlier work changed: status %s, then %s; matrix the same: %v",
			beforeStatus, afterStatus, afterMatrix == beforeMatrix)
	}
	t.Run("concurrent uploads", func(t *testing.T) { checkConcurrentUploads(t, n) })
}

func badRequests(t *testing.T) []badRequest {
	file := func(name, content string) ([]byte, string) { return multipartFile(t, "file", name, content) }
	empty, emptyCT := file("empty.csv", "")
	header, headerCT := file("header.csv", "Donor_ID,_PATIENT\n")
	blank, blankCT := file("blank.csv", "\n\n \r\n\n")
	binary, binaryCT := file("image.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
	noID, noIDCT := file("specimens.csv", "specimen,tumour\nSP1,T1\n")
	hostile, hostileCT := file("hostile.csv", "label,id\nA,../etc\nB,%2F\nC,=HYPERLINK(\"x\")\nD,DO 1\n")
	other, otherCT := multipartFile(t, "upload", "a.csv", "DO1\n")
	const unknown = "11111111-2222-4333-8444-555555555555"
	return []badRequest{
		{"empty file", "POST", "/upload", empty, emptyCT, 400, "empty"},
		{"only a header", "POST", "/upload", header, headerCT, 400, "header but no data rows"},
		{"only blank lines", "POST", "/upload", blank, blankCT, 400, "only blank lines"},
		{"binary file", "POST", "/upload", binary, binaryCT, 400, "binary"},
		{"no id column", "POST", "/upload", noID, noIDCT, 400, "no id column"},
		{"named id column missing", "POST", "/upload?id_column=donor", header, headerCT, 400, `column "donor" not found`},
		{"only hostile ids", "POST", "/upload", hostile, hostileCT, 400, "no row was accepted"},
		{"missing file field", "POST", "/upload", other, otherCT, 400, `"file"`},
		{"not multipart", "POST", "/upload", []byte("DO1\n"), "text/csv", 415, "multipart/form-data"},
		{"malformed work id", "GET", "/status/abc", nil, "", 400, "malformed work id"},
		{"work id with a path", "GET", "/download/..%2F..%2Fetc", nil, "", 400, "malformed work id"},
		{"unknown work", "GET", "/status/" + unknown, nil, "", 404, "no work"},
		{"download of an unknown work", "GET", "/download/" + unknown, nil, "", 404, "no work"},
		{"cancel of an unknown work", "POST", "/cancel/" + unknown, nil, "", 404, "no work"},
	}
}

// multipartFile builds a form with one file field.
func multipartFile(t *testing.T, field, name, content string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, content)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// sendRaw sends one request and returns the status and the JSON error.
func sendRaw(t *testing.T, n *node, method, path string, body io.Reader, contentType string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.http+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("%s %s: status %d with a body that is no JSON error: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, e.Error
}

// checkTooLarge streams an upload eight times the limit: the node must
// answer 413 and close the connection without reading the rest.
func checkTooLarge(t *testing.T, n *node) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, err := mw.CreateFormFile("file", "big.csv")
		if err == nil {
			_, _ = io.WriteString(w, "label,id\n")
			row := strings.Repeat("SP1,DO1\n", 1024)
			for written := 0; written < 8*testMaxUpload && err == nil; written += len(row) {
				_, err = io.WriteString(w, row)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	status, msg := sendRaw(t, n, "POST", "/upload", pr, mw.FormDataContentType())
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than") {
		t.Fatalf("status %d, error %q; want 413 saying the upload is too large", status, msg)
	}
	_ = pr.Close()
}

// workSnapshot returns a work's status line and its matrix.
func workSnapshot(t *testing.T, n *node, id string) (string, string) {
	t.Helper()
	ctx := context.Background()
	st, err := n.client.Status(ctx, id)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	var buf bytes.Buffer
	if err := n.client.Download(ctx, id, "csv", &buf); err != nil {
		t.Fatalf("download of %s: %v", id, err)
	}
	line := fmt.Sprintf("%s total %d counts %+v errors %d", st.Status, st.Total, st.Counts, len(st.Errors))
	return line, buf.String()
}

// checkConcurrentUploads uploads the same file four times at once.
func checkConcurrentUploads(t *testing.T, n *node) {
	input := fixtures.Path(t, "small_4_ids.csv")
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			up, err := n.client.UploadFile(ctx, input, client.UploadOptions{})
			if err != nil {
				t.Errorf("upload %d: %v", i, err)
				return
			}
			ids[i] = up.IDWork
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[string]bool{}
	want := expectedMatrix(t, input)
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("two uploads got the work id %s", id)
		}
		seen[id] = true
		waitStatus(t, n.client, id, time.Minute, finished)
		if _, matrix := workSnapshot(t, n, id); matrix != want {
			t.Errorf("work %s: matrix differs:\n%s", id, firstDiff(matrix, want))
		}
	}
}
