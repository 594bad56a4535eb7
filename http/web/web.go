// Package web serves the browser pages of a signalscrape node: the upload
// page, a work's live page, the list of recent works and the admin page. The
// pages, scripts and styles are embedded in the binary and need no network
// beyond the node itself. The scripts call the JSON API (package api) from
// the browser; the one thing served here besides files is a work's events
// stream, which pushes the work's status as it changes.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/signalscrape/signalscrape/http/api"
)

// Config is what the web UI needs. Backend is required; a nil Logger
// discards the logs. Version is shown at the foot of every page.
type Config struct {
	Backend api.Backend
	Logger  *slog.Logger
	Version string
}

// Timing of a work's events stream.
const (
	// pollInterval is how often the stream asks for the work's status.
	pollInterval = time.Second
	// heartbeatInterval is how often the stream sends a comment, so that
	// proxies and browsers keep a quiet connection open.
	heartbeatInterval = 15 * time.Second
)

// server holds what the handlers share. It is safe for concurrent use:
// nothing in it changes after newServer.
type server struct {
	backend   api.Backend
	log       *slog.Logger
	version   string
	pages     map[string]*page
	assets    map[string]asset
	poll      time.Duration
	heartbeat time.Duration
}

// New returns the handler of the web pages: GET /, /works/{idwork},
// /works/{idwork}/events, /recent, /admin and /static/*. It panics if
// cfg.Backend is nil.
func New(cfg Config) http.Handler {
	return newServer(cfg).routes()
}

func newServer(cfg Config) *server {
	if cfg.Backend == nil {
		panic("web: Config.Backend is nil")
	}
	s := &server{
		backend:   cfg.Backend,
		log:       cfg.Logger,
		version:   cfg.Version,
		pages:     parsePages(),
		assets:    loadAssets(),
		poll:      pollInterval,
		heartbeat: heartbeatInterval,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/", s.uploadPage)
	r.Get("/works/{idwork}", s.workPage)
	r.Get("/works/{idwork}/events", s.events)
	r.Get("/recent", s.recentPage)
	r.Get("/admin", s.adminPage)
	r.Get("/static/*", s.static)
	return r
}

// contentSecurityPolicy lets a page load scripts, styles, images and
// connections from its own origin only; inline scripts and styles, plugins,
// framing and foreign form targets are refused.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; object-src 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer of the web UI carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
