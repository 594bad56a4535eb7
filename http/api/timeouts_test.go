package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDownloadOutlivesWriteTimeout serves the API behind a server whose
// write timeout has passed before any handler writes: an ordinary answer is
// cut, while a download moves its own deadline and arrives whole.
func TestDownloadOutlivesWriteTimeout(t *testing.T) {
	fb := worksBackend()
	matrix := wideMatrix(",", "Type", "a", "b")
	fb.store.blobs["results/"+doneID+".csv"] = blob{data: []byte(matrix), contentType: "text/csv"}
	srv := httptest.NewUnstartedServer(newHandler(fb, Config{}))
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	defer srv.Close()

	if resp, err := http.Get(srv.URL + "/works"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /works answered %d past the write timeout; the test cannot tell", resp.StatusCode)
	}

	resp, err := http.Get(srv.URL + "/download/" + doneID)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != matrix {
		t.Fatalf("download: %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
}
