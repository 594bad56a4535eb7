// Package api serves the JSON API of a signalscrape node: uploads, the status,
// result, plots and cancelling of works, the works list, the admin calls and
// the health checks, /metrics and the API's OpenAPI description. Every error
// answer is JSON {"error": "..."}. The web pages are served elsewhere.
package api

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// DefaultMaxUploadBytes is the largest upload accepted when Config leaves
// MaxUploadBytes zero.
const DefaultMaxUploadBytes = 50 << 20

// Config is what the API needs. Backend is required; a nil Logger discards
// the logs.
type Config struct {
	Backend Backend
	Logger  *slog.Logger
	// AdminToken, when set, is the bearer token /admin/* requires; when
	// empty, only loopback clients may call /admin/*.
	AdminToken string
	// MaxUploadBytes bounds the uploaded CSV file; zero means
	// DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// Version is the program's version, shown by /readyz.
	Version string
	// Metrics serves GET /metrics; nil answers 404 there.
	Metrics http.Handler
}

// server holds the configuration shared by the handlers. It is safe for
// concurrent use: nothing in it changes after New but the plot cache, which
// guards itself.
type server struct {
	backend    Backend
	log        *slog.Logger
	adminToken string
	maxUpload  int64
	version    string
	metrics    http.Handler
	plots      *plotCache
}

// New returns the handler of every API endpoint. It panics if cfg.Backend is
// nil.
func New(cfg Config) http.Handler {
	if cfg.Backend == nil {
		panic("api: Config.Backend is nil")
	}
	s := &server{
		backend:    cfg.Backend,
		log:        cfg.Logger,
		adminToken: cfg.AdminToken,
		maxUpload:  cfg.MaxUploadBytes,
		version:    cfg.Version,
		metrics:    cfg.Metrics,
		plots:      newPlotCache(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxUpload <= 0 {
		s.maxUpload = DefaultMaxUploadBytes
	}
	if s.metrics == nil {
		s.metrics = http.HandlerFunc(s.notFound)
	}
	return s.routes()
}

func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverPanics, s.logRequests)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.With(writeWithin(longWrite)).Post("/upload", s.upload)
	r.Group(func(r chi.Router) {
		r.Use(limitBody(maxRequestBody))
		r.Get("/status/{idwork}", s.status)
		r.With(writeWithin(longWrite)).Get("/download/{idwork}", s.download)
		r.Get("/evidence/{idwork}/{n}", s.evidence)
		r.Get("/evidence/{idwork}/{n}/html", s.evidenceHTML)
		r.Get("/works/{idwork}/plots", s.plotList)
		r.Get("/works/{idwork}/plots/*", s.plot)
		r.Post("/cancel/{idwork}", s.cancel)
		r.Get("/works", s.works)
		r.Get("/healthz", s.healthz)
		r.Get("/readyz", s.readyz)
		r.Get("/metrics", s.metrics.ServeHTTP)
		r.Get("/openapi.yaml", s.openAPI)
		r.Route("/admin", func(r chi.Router) {
			r.Use(s.adminOnly)
			r.Get("/limits", s.limits)
			r.Put("/limits", s.setLimits)
			r.Get("/cluster", s.cluster)
		})
	})
	return r
}
