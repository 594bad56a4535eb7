package mocksignal

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequestLogWhileServing(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	s := newServer(t, Config{LogPath: logPath, ThrottleEvery: 3})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	targets := []string{"/sample/DO1000.csv", "/sample/DO9999999.csv", "/sample/DO1005.csv", "/", "/sample/..%2Fx.csv"}
	for _, target := range targets {
		resp, err := srv.Client().Get(srv.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	entries, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []LogEntry{
		{Path: "/sample/DO1000.csv", ID: "DO1000", Status: 200},
		{Path: "/sample/DO9999999.csv", ID: "DO9999999", Status: 404},
		{Path: "/sample/DO1005.csv", ID: "DO1005", Status: 429, Fault: "throttle"},
		{Path: "/", Status: 200},
		{Path: "/sample/../x.csv", Status: 404},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		w := want[i]
		if e.Path != w.Path || e.ID != w.ID || e.Status != w.Status || e.Fault != w.Fault || e.Method != http.MethodGet {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
		if e.Start.UnixNano() != e.StartUnixNano || e.End.UnixNano() != e.EndUnixNano || e.EndUnixNano < e.StartUnixNano {
			t.Errorf("entry %d has inconsistent times: %+v", i, e)
		}
		if i > 0 && e.StartUnixNano < entries[i-1].EndUnixNano {
			t.Errorf("entry %d starts before the previous sequential request ended", i)
		}
	}
}

func TestRequestLogLineFields(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	s := newServer(t, Config{LogPath: logPath})
	get(t, s.Handler(), "/sample/DO1000.csv")
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	line := string(data)
	for _, field := range []string{`"start":"`, `"end":"`, `"start_unix_nano":`, `"end_unix_nano":`, `"path":"/sample/DO1000.csv"`, `"id":"DO1000"`, `"status":200`} {
		if !strings.Contains(line, field) {
			t.Errorf("log line %s lacks %s", line, field)
		}
	}
	if !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("log is not one JSON line: %q", line)
	}
}

func TestReadLogSkipsLineInProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	content := `{"path":"/sample/a.csv","status":200,"start_unix_nano":1,"end_unix_nano":2}` + "\n\n" + `{"path":"/sam`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Path != "/sample/a.csv" || entries[0].EndUnixNano != 2 {
		t.Fatalf("entries %+v", entries)
	}
}

func TestReadLogRejectsBrokenLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	if err := os.WriteFile(path, []byte("{}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLog(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
	if _, err := ReadLog(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("read a missing log")
	}
}
