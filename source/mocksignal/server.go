package mocksignal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is the stand-in site. Its handler is safe for concurrent use; Start
// and Stop are called once each, from one goroutine.
type Server struct {
	cfg    Config
	logger *slog.Logger
	index  *index
	// missing holds the donors of Config.Missing.
	missing map[string]bool
	reqLog  *requestLog
	pages   *http.ServeMux

	// mu guards the fault generator and the request counter.
	mu    sync.Mutex
	rng   *rand.Rand
	count int

	srv     *http.Server
	addr    string
	serving chan error
}

// New checks cfg, indexes the profiles directory and opens the request log.
// The Server serves nothing until Start, but its Handler works at once.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checking mock signal config: %w", err)
	}
	cfg = cfg.withDefaults()
	missing := make(map[string]bool, len(cfg.Missing))
	for _, id := range cfg.Missing {
		missing[id] = true
	}
	ix, err := buildIndex(cfg.ProfilesDir, missing)
	if err != nil {
		return nil, err
	}
	if cfg.StaleRate > 0 && len(ix.ids) < 2 {
		return nil, errors.New("stale answers need at least two profiles")
	}
	reqLog, err := openRequestLog(cfg.LogPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		index:   ix,
		missing: missing,
		reqLog:  reqLog,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0)),
	}
	s.pages = s.routes()
	logger.Debug("profiles indexed", "dir", cfg.ProfilesDir, "profiles", len(ix.ids))
	return s, nil
}

// Handler returns the site: /sample/{id}.csv and the pages.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP routes /sample/ itself, so that no path cleaning or redirect
// comes before the id check, and logs the request.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now().UTC()
	sw := &statusWriter{ResponseWriter: w}
	var id, fault string
	if name, ok := strings.CutPrefix(r.URL.Path, "/sample/"); ok {
		id, fault = s.serveSample(sw, r, name)
	} else {
		s.pages.ServeHTTP(sw, r)
	}
	end := time.Now().UTC()
	entry := LogEntry{
		Start: start, End: end, StartUnixNano: start.UnixNano(), EndUnixNano: end.UnixNano(),
		Method: r.Method, Path: r.URL.Path, ID: id, Status: sw.finalStatus(r), Fault: fault,
		UserAgent: r.UserAgent(),
	}
	if fault == faultReset {
		entry.Status = 0
	}
	if err := s.reqLog.write(entry); err != nil {
		s.logger.Warn("logging request", "err", err)
	}
	s.logger.Debug("request", "path", entry.Path, "donor_id", id, "status", entry.Status, "fault", fault)
}

// Start listens on the configured address and serves in the background
// until Stop.
func (s *Server) Start(ctx context.Context) error {
	if s.srv != nil {
		return errors.New("starting mock signal: already started")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("starting mock signal: %w", err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.serving = make(chan error, 1)
	go func() { s.serving <- s.srv.Serve(ln) }()
	s.logger.Debug("mock signal listening", "addr", s.addr)
	return nil
}

// Addr returns the address Start listens on, with the port chosen when the
// configured one was 0; empty before Start.
func (s *Server) Addr() string { return s.addr }

// Stop waits for the requests in flight until ctx ends, then closes the
// remaining connections, the listener and the request log. It returns once
// the serving goroutine has exited.
func (s *Server) Stop(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping mock signal: %w", err), s.srv.Close())
		}
		if err := <-s.serving; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serving mock signal: %w", err))
		}
	}
	errs = append(errs, s.reqLog.close())
	return errors.Join(errs...)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finalStatus is the status sent: 200 when the handler wrote nothing, or
// 499 (client closed request) when the client left before an answer.
func (w *statusWriter) finalStatus(r *http.Request) int {
	switch {
	case w.status != 0:
		return w.status
	case r.Context().Err() != nil:
		return 499
	default:
		return http.StatusOK
	}
}
