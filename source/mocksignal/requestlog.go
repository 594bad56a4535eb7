package mocksignal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// LogEntry is one line of the request log: one request, in flight from Start
// to End. End is taken when the handler returns, before the server sends the
// last buffered bytes, so a client cannot start its next request before the
// End of its previous one.
type LogEntry struct {
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	StartUnixNano int64     `json:"start_unix_nano"`
	EndUnixNano   int64     `json:"end_unix_nano"`
	Method        string    `json:"method"`
	Path          string    `json:"path"`
	// ID is the donor id of a /sample/ request with a valid id, else empty.
	ID string `json:"id"`
	// Status is the answer's status, 0 for a reset connection.
	Status int `json:"status"`
	// Fault names the injected fault, if any: throttle, error, stale,
	// garbage, slow or reset.
	Fault string `json:"fault,omitempty"`
	// UserAgent is the request's User-Agent header.
	UserAgent string `json:"user_agent,omitempty"`
}

// requestLog appends JSON lines to a file, one write per line, so that a
// reader sees whole lines while the server runs. A nil *requestLog drops
// everything.
type requestLog struct {
	mu sync.Mutex
	f  *os.File
}

func openRequestLog(path string) (*requestLog, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening request log: %w", err)
	}
	return &requestLog{f: f}, nil
}

func (l *requestLog) write(e LogEntry) error {
	if l == nil {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding request log entry: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing request log: %w", err)
	}
	return nil
}

func (l *requestLog) close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("closing request log: %w", err)
	}
	return nil
}

// ReadLog reads a request log. It may be called while the server writes:
// a last line without its line end is a write in progress and is left out.
func ReadLog(path string) ([]LogEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading request log: %w", err)
	}
	var entries []LogEntry
	for n := 1; ; n++ {
		line, rest, complete := bytes.Cut(data, []byte{'\n'})
		if !complete {
			return entries, nil
		}
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e LogEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("reading request log %s: line %d: %w", path, n, err)
		}
		entries = append(entries, e)
	}
}
