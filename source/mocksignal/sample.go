package mocksignal

import (
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Fault names, as the request log shows them.
const (
	faultThrottle = "throttle"
	faultError    = "error"
	faultStale    = "stale"
	faultGarbage  = "garbage"
	faultSlow     = "slow"
	faultReset    = "reset"
)

// plan is what the stand-in does with one /sample/ request.
type plan struct {
	latency time.Duration
	fault   string
	// variant picks between the two kinds of one fault: 500 or 502,
	// an HTML page or a truncated profile.
	variant bool
}

// nextPlan counts the request and draws its latency and fault. It draws the
// same numbers for every request, so that the sequence depends only on the
// seed and the number of requests.
func (s *Server) nextPlan() plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	lat := s.cfg.Latency
	p := plan{
		latency: lat.Min + time.Duration(s.rng.Int64N(int64(lat.Max-lat.Min)+1)),
		variant: s.rng.IntN(2) == 0,
	}
	u := s.rng.Float64()
	burst := s.count - s.cfg.ErrorBurstAt
	switch {
	case s.throttled():
		p.fault = faultThrottle
	case burst > 0 && burst <= s.cfg.ErrorBurst:
		p.fault, p.variant = faultError, false
	case u < s.cfg.ErrorRate:
		p.fault = faultError
	case u < s.cfg.ErrorRate+s.cfg.StaleRate:
		p.fault = faultStale
	case u < s.cfg.ErrorRate+s.cfg.StaleRate+s.cfg.GarbageRate:
		p.fault = faultGarbage
	case u < s.cfg.ErrorRate+s.cfg.StaleRate+s.cfg.GarbageRate+s.cfg.SlowRate:
		p.fault = faultSlow
		p.latency += s.cfg.SlowDelay
	case u < s.cfg.ErrorRate+s.cfg.StaleRate+s.cfg.GarbageRate+s.cfg.SlowRate+s.cfg.ResetRate:
		p.fault = faultReset
	}
	return p
}

// throttled tells whether the current request falls in a throttle: the
// ThrottleEvery-th request and, in a storm, those right after it.
func (s *Server) throttled() bool {
	every := s.cfg.ThrottleEvery
	return every > 0 && s.count >= every && s.count%every < max(1, s.cfg.ThrottleStorm)
}

// serveSample answers /sample/<name>, where name should be <id>.csv, and
// returns the valid id, if any, and the fault it injected. Throttling and
// server errors hit any request; stale and garbage answers only requests for
// a donor that has a file.
func (s *Server) serveSample(w http.ResponseWriter, r *http.Request, name string) (string, string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return "", ""
	}
	id, ok := strings.CutSuffix(name, ".csv")
	if !ok || !validID(id) {
		id = ""
	}
	p := s.nextPlan()
	if !sleep(r.Context(), p.latency) {
		if p.fault == faultSlow {
			return id, p.fault
		}
		return id, ""
	}
	switch p.fault {
	case faultThrottle:
		s.throttle(w)
		return id, p.fault
	case faultError:
		serverError(w, p.variant)
		return id, p.fault
	case faultReset:
		resetConnection(w)
		return id, p.fault
	}
	path, known := s.index.path(id)
	if id != "" && !known && s.cfg.Synthesize && isDonorID(id) && !s.missing[id] {
		writeBody(w, "text/csv; charset=utf-8", synthProfile(id))
		return id, ""
	}
	if id == "" || !known {
		http.NotFound(w, r)
		return id, ""
	}
	switch p.fault {
	case faultStale:
		path = s.index.neighbour(id)
	case faultGarbage:
		s.serveGarbage(w, path, p.variant)
		return id, p.fault
	}
	s.serveFile(w, path)
	return id, p.fault
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) throttle(w http.ResponseWriter) {
	secs := (s.cfg.RetryAfter + time.Second - 1) / time.Second
	w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	http.Error(w, "too many requests", http.StatusTooManyRequests)
}

// resetConnection closes the connection without an answer. Where the
// connection cannot be taken over (a test's recorder) it answers 502.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "connection reset", http.StatusBadGateway)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func serverError(w http.ResponseWriter, badGateway bool) {
	if badGateway {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// serveFile answers 200 with the file's bytes as they are.
func (s *Server) serveFile(w http.ResponseWriter, path string) {
	body, err := os.ReadFile(path)
	if err != nil {
		s.logger.Warn("reading profile", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	writeBody(w, "text/csv; charset=utf-8", body)
}

// serveGarbage answers 200 with a page that is not a profile: the site's
// loading page, or the first half of the real profile.
func (s *Server) serveGarbage(w http.ResponseWriter, path string, html bool) {
	if html {
		writeBody(w, "text/html; charset=utf-8", []byte(loadingPage))
		return
	}
	body, err := os.ReadFile(path)
	if err != nil {
		s.logger.Warn("reading profile", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	writeBody(w, "text/csv; charset=utf-8", body[:len(body)/2])
}

func writeBody(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// loadingPage is what a browser sees before the site's script has run.
const loadingPage = `<!DOCTYPE html>
<html><head><title>Signal</title></head>
<body><div id="root">Loading...</div></body></html>
`
