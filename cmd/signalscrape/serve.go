package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/signalscrape/signalscrape/actors"
	"github.com/signalscrape/signalscrape/cluster"

	"github.com/signalscrape/signalscrape/http/api"
	"github.com/signalscrape/signalscrape/http/web"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/s3blob"
	"github.com/signalscrape/signalscrape/persistence/stores"
	"github.com/signalscrape/signalscrape/source"
	"github.com/signalscrape/signalscrape/source/browser"
	"github.com/signalscrape/signalscrape/source/httpsource"
)

// version is the software version reported in manifests and the User-Agent.
var version = "0.1.0"

// serveFlags are the flags of `signalscrape serve`.
type serveFlags struct {
	httpAddr, dataDir, databaseURL, blobURL string
	nodeName, gossipAddr, actorAddr, join   string
	sourceKind, sourceURL, adminToken       string
	minInterval, maxInterval                time.Duration
	maxConcurrency                          int
	logFormat, logLevel, frameworkLevel     string
	maxUploadBytes                          int64
	maxAttempts, taskWindow                 int
	retryBase, leaseTTL, fetchTimeout       time.Duration
	contact                                 string
	chromiumPath                            string
	breakerFailures                         int
	breakerCooldown                         time.Duration
	s3Endpoint                              string
	browser                                 browserFlags
}

// defaultBrowserMaxMemoryMB is the default of --browser-max-memory-mb. The
// measure adds up the resident memory of Chromium's processes, which share
// pages, and so overstates: a fresh Debian Chromium measured 700 MB after one
// page, and about 1 GB while a second tab was open. Twice that is a browser
// that has grown over a long run.
const defaultBrowserMaxMemoryMB = 2048

// browserFlags are the flags of the browser source, --browser-*: how long a
// browser lives, how long each step may take and the elements of the site's
// pages. Their defaults are those of browser.Config, but for the memory
// bound, which a node sets where browser.Config sets none.
type browserFlags struct {
	restartPages, maxMemoryMB, maxTabs int
	stepTimeout, notFoundAfter         time.Duration
	noResultsText                      string
	selectors                          browser.Selectors
}

func (b *browserFlags) register(fs *flag.FlagSet) {
	d := browser.DefaultSelectors()
	fs.IntVar(&b.restartPages, "browser-restart-pages", browser.DefaultRestartAfter, "browser source: pages a browser serves before it is restarted")
	fs.IntVar(&b.maxMemoryMB, "browser-max-memory-mb", defaultBrowserMaxMemoryMB, "browser source: resident memory of the browser's processes, in MB, past which it is restarted (0: no bound)")
	fs.IntVar(&b.maxTabs, "browser-max-tabs", browser.DefaultMaxTabs, "browser source: donors fetched at once on this node")
	fs.DurationVar(&b.stepTimeout, "browser-step-timeout", browser.DefaultStepTimeout, "browser source: time limit of each step of a fetch (open, search, preview, page, download)")
	fs.DurationVar(&b.notFoundAfter, "browser-not-found-after", browser.DefaultNotFoundAfter, "browser source: how long the preview must show --browser-no-results-text before the donor counts as unknown")
	fs.StringVar(&b.noResultsText, "browser-no-results-text", browser.DefaultNoResultsText, "browser source: what the search preview shows for a donor the site does not know")
	fs.StringVar(&b.selectors.SearchContainer, "browser-search-selector", d.SearchContainer, "browser source: CSS selector of the search box to click")
	fs.StringVar(&b.selectors.SearchInput, "browser-input-selector", d.SearchInput, "browser source: CSS selector of the text input to type the donor id into")
	fs.StringVar(&b.selectors.PreviewLink, "browser-preview-selector", d.PreviewLink, "browser source: CSS selector of the search preview's links to cancer-sample pages")
	fs.StringVar(&b.selectors.DownloadButton, "browser-download-selector", d.DownloadButton, "browser source: CSS selector of the Download as CSV button")
}

// check validates the browser flags. Zero counts and durations are refused,
// not turned into defaults, so that a flag means what it says.
func (b *browserFlags) check() error {
	switch {
	case b.restartPages < 1:
		return fmt.Errorf("--browser-restart-pages %d: need at least 1", b.restartPages)
	case b.maxMemoryMB < 0:
		return fmt.Errorf("--browser-max-memory-mb %d: need 0 (no bound) or more", b.maxMemoryMB)
	case b.maxTabs < 1:
		return fmt.Errorf("--browser-max-tabs %d: need at least 1", b.maxTabs)
	case b.stepTimeout <= 0 || b.notFoundAfter <= 0:
		return fmt.Errorf("--browser-step-timeout %s and --browser-not-found-after %s: need positive times", b.stepTimeout, b.notFoundAfter)
	case b.notFoundAfter >= b.stepTimeout:
		return fmt.Errorf("--browser-not-found-after %s: need less than --browser-step-timeout %s, or no donor is ever found unknown",
			b.notFoundAfter, b.stepTimeout)
	case strings.TrimSpace(b.noResultsText) == "":
		return errors.New("--browser-no-results-text is empty: the preview's answer for an unknown donor is needed")
	}
	return b.checkSelectors()
}

func (b *browserFlags) checkSelectors() error {
	for _, sel := range []struct{ flag, value string }{
		{"--browser-search-selector", b.selectors.SearchContainer},
		{"--browser-input-selector", b.selectors.SearchInput},
		{"--browser-preview-selector", b.selectors.PreviewLink},
		{"--browser-download-selector", b.selectors.DownloadButton},
	} {
		if strings.TrimSpace(sel.value) == "" {
			return fmt.Errorf("%s is empty: need a CSS selector", sel.flag)
		}
	}
	return nil
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "address of the API and web UI")
	fs.StringVar(&f.dataDir, "data-dir", "./data", "directory of the embedded store")
	fs.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL; empty: the embedded store")
	fs.StringVar(&f.blobURL, "blob-url", "", "object storage for uploads and results (s3://bucket/prefix)")
	fs.StringVar(&f.nodeName, "node-name", "", "unique member name (default: host name and gossip port)")
	fs.StringVar(&f.gossipAddr, "gossip-addr", "127.0.0.1:7946", "memberlist address, bound and advertised")
	fs.StringVar(&f.actorAddr, "actor-addr", "127.0.0.1:8090", "actor system remote address")
	fs.StringVar(&f.join, "join", "", "comma-separated gossip addresses of members to join")
	fs.StringVar(&f.sourceKind, "source", "browser", "upstream source: browser or http")
	fs.StringVar(&f.sourceURL, "source-url", "https://signal.mutationalsignatures.com", "browser: the site's base URL; http: a URL template with {id}")
	fs.DurationVar(&f.minInterval, "min-interval", time.Second, "initial smallest gap between upstream requests, cluster-wide")
	fs.DurationVar(&f.maxInterval, "max-interval", 3*time.Second, "initial largest gap between upstream requests, cluster-wide")
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 2, "initial cap on upstream requests in flight, cluster-wide")
	fs.StringVar(&f.adminToken, "admin-token", "", "bearer token for /admin/*; empty: loopback clients only")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.frameworkLevel, "framework-log-level", "warn", "lowest level of the actor framework's own logs")
	fs.Int64Var(&f.maxUploadBytes, "max-upload-bytes", 50<<20, "largest accepted upload")
	fs.IntVar(&f.maxAttempts, "max-attempts", 5, "upstream attempts per donor before it fails")
	fs.DurationVar(&f.retryBase, "retry-base", time.Second, "first backoff between attempts; doubles each time")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", 5*time.Second, "lifetime of a permit that is not renewed")
	fs.DurationVar(&f.fetchTimeout, "fetch-timeout", time.Minute, "time limit of one upstream request")
	fs.IntVar(&f.taskWindow, "task-window", 128, "tasks of one work running at once")
	fs.StringVar(&f.contact, "contact", "", "contact (e-mail or URL) sent in the User-Agent")
	fs.StringVar(&f.chromiumPath, "chromium", "", "browser source: the Chromium to run (default: chromium found in PATH or /usr/bin)")
	fs.IntVar(&f.breakerFailures, "breaker-failures", 5, "failed upstream requests in a row (5xx, timeouts, broken connections) that pause every grant")
	fs.DurationVar(&f.breakerCooldown, "breaker-cooldown", 30*time.Second, "pause after the failures, before one probe request")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 server of --blob-url, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS)")
	f.browser.register(fs)
}

// check validates the flags together.
func (f *serveFlags) check() error {
	switch {
	case f.join != "" && f.databaseURL == "":
		return errors.New("--join needs --database-url: members share their state through PostgreSQL")
	case f.minInterval < 0 || f.maxInterval < f.minInterval:
		return fmt.Errorf("--min-interval %s and --max-interval %s: need 0 <= min <= max", f.minInterval, f.maxInterval)
	case f.maxConcurrency < 1:
		return fmt.Errorf("--max-concurrency %d: need at least 1", f.maxConcurrency)
	case f.breakerFailures < 1 || f.breakerCooldown <= 0:
		return fmt.Errorf("--breaker-failures %d and --breaker-cooldown %s: need at least 1 and a positive time", f.breakerFailures, f.breakerCooldown)
	case strings.ContainsFunc(f.contact, unicode.IsControl):
		return errors.New("--contact must not hold control characters: it goes into a header")
	}
	if f.blobURL != "" {
		if _, _, err := s3blob.ParseURL(f.blobURL); err != nil {
			return fmt.Errorf("--blob-url: %w", err)
		}
	}
	return f.browser.check()
}

func (f *serveFlags) limits() persistence.Limits {
	return persistence.Limits{MinInterval: f.minInterval, MaxInterval: f.maxInterval, MaxConcurrency: f.maxConcurrency}
}

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	fs.Usage = func() { serveUsage(fs) }
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(os.Stderr, "signalscrape serve:", err)
		return 2
	}
	if err := f.check(); err != nil {
		fmt.Fprintln(os.Stderr, "signalscrape serve:", err)
		return 2
	}

	logger, err := newLogger(os.Stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signalscrape serve:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, &f, logger); err != nil {
		logger.Error("node failed", "err", err)
		return 1
	}
	return 0
}

// serveUsage prints the help of `signalscrape serve`.
func serveUsage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprint(out, `usage: signalscrape serve [flags]

Starts a node: the API and web UI, the fetch pipeline and, with --database-url
and --join, membership of a cluster. Every flag also reads from the environment
as SIGNALSCRAPE_ plus its name in upper snake case (--database-url from
SIGNALSCRAPE_DATABASE_URL); a flag wins.

With --blob-url s3://bucket/prefix, uploaded originals and results go to that
bucket. Its keys are never flags, which every user of the machine could read:
they come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
else ~/.aws/credentials, else the role of the instance or pod, and are never
logged. AWS_REGION names the region. For a server other than AWS S3 (MinIO,
Ceph, Garage...) set --s3-endpoint, or AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.

flags:
`)
	fs.PrintDefaults()
}

// serve runs a node until ctx ends.
func serve(ctx context.Context, f *serveFlags, logger *slog.Logger) error {
	store, err := stores.Open(ctx, f.databaseURL, f.dataDir, logger)
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	defer store.Close()
	store, err = stores.WithBlobs(ctx, store, s3blob.Config{URL: f.blobURL, Endpoint: f.s3Endpoint}, logger)
	if err != nil {
		return err
	}

	src, err := newSource(f, logger)
	if err != nil {
		return err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	if a, ok := src.(interface{ Available() error }); ok {
		if err := a.Available(); err != nil {
			logger.Warn("the browser source cannot run here; works stay pending until it can", "err", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	node, err := startNode(f, store, src, reg, logger)
	if err != nil {
		return err
	}
	defer node.Stop()

	handler := routes(
		api.New(api.Config{
			Backend:        node,
			Logger:         logger,
			AdminToken:     f.adminToken,
			MaxUploadBytes: f.maxUploadBytes,
			Version:        version,
			Metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		}),
		web.New(web.Config{Backend: node, Logger: logger, Version: version}),
	)
	return serveHTTP(ctx, f.httpAddr, handler, logger)
}

func startNode(f *serveFlags, store persistence.Store, src source.Source, reg *prometheus.Registry, logger *slog.Logger) (*cluster.Node, error) {
	frameworkLevel, err := parseLevel(f.frameworkLevel)
	if err != nil {
		return nil, err
	}
	name := f.nodeName
	if name == "" {
		name = defaultNodeName(f.gossipAddr)
	}
	return cluster.Start(cluster.Config{
		NodeName:       name,
		GossipAddr:     f.gossipAddr,
		ActorAddr:      f.actorAddr,
		HTTPAddr:       f.httpAddr,
		Join:           splitList(f.join),
		Store:          store,
		Source:         src,
		Logger:         logger,
		FrameworkLevel: frameworkLevel,
		Metrics:        reg,
		Actors: actors.Deps{
			DefaultLimits: f.limits(),
			LeaseTTL:      f.leaseTTL,
			TaskWindow:    f.taskWindow,
			MaxAttempts:   f.maxAttempts,
			RetryBase:     f.retryBase,
			FetchTimeout:  f.fetchTimeout,

			BreakerFailures: f.breakerFailures,
			BreakerCooldown: f.breakerCooldown,
		},
	})
}

// routes sends the web pages to the UI and everything else to the JSON API.
func routes(apiHandler, ui http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Get("/", ui.ServeHTTP)
	r.Get("/recent", ui.ServeHTTP)
	r.Get("/admin", ui.ServeHTTP)
	r.Get("/works/{idwork}", ui.ServeHTTP)
	r.Get("/works/{idwork}/events", ui.ServeHTTP)
	r.Get("/static/*", ui.ServeHTTP)
	r.Handle("/*", apiHandler)
	return r
}

// serveHTTP serves handler on addr until ctx ends, then shuts down gently.
func serveHTTP(ctx context.Context, addr string, handler http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	// Request contexts end with ctx, so that open event streams do not hold
	// up the shutdown. Slow clients meet the timeouts: a minute to answer,
	// except where a route moves its own deadline (the event stream of a
	// work's page, uploads and downloads), five minutes to send a request
	// (a 50 MB upload at 170 kB/s).
	srv := &http.Server{
		Handler:           handler,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "url", "http://"+ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// userAgent names the service, its version and the operator's contact, so
// that the site's owners know who sends the requests.
func userAgent(contact string) string {
	ua := "signalscrape/" + version + " (+https://github.com/signalscrape/signalscrape"
	if contact != "" {
		ua += "; " + contact
	}
	return ua + ")"
}

func newSource(f *serveFlags, logger *slog.Logger) (source.Source, error) {
	ua := userAgent(f.contact)
	switch f.sourceKind {
	case "http":
		return httpsource.New(httpsource.Config{Template: f.sourceURL, UserAgent: ua, Timeout: f.fetchTimeout})
	case "browser":
		return browser.New(f.browserConfig(ua, logger))
	}
	return nil, fmt.Errorf("--source %q: want browser or http", f.sourceKind)
}

// browserConfig is the configuration of the browser source that the flags
// ask for.
func (f *serveFlags) browserConfig(userAgent string, logger *slog.Logger) browser.Config {
	b := f.browser
	return browser.Config{
		BaseURL:       f.sourceURL,
		ChromiumPath:  f.chromiumPath,
		StepTimeout:   b.stepTimeout,
		RestartAfter:  b.restartPages,
		MaxMemoryMB:   b.maxMemoryMB,
		MaxTabs:       b.maxTabs,
		NoResultsText: b.noResultsText,
		NotFoundAfter: b.notFoundAfter,
		Selectors:     b.selectors,
		Logger:        logger,
		UserAgent:     userAgent,
	}
}

func defaultNodeName(gossipAddr string) string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	_, port, err := net.SplitHostPort(gossipAddr)
	if err != nil {
		return host
	}
	return host + "-" + port
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func runMigrate(args []string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "directory of the embedded store")
	databaseURL := fs.String("database-url", "", "PostgreSQL URL; empty: the embedded store")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(os.Stderr, "signalscrape migrate:", err)
		return 2
	}

	logger, _ := newLogger(os.Stderr, "text", "info")
	store, err := stores.Open(context.Background(), *databaseURL, *dataDir, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signalscrape migrate:", err)
		return 1
	}
	store.Close()
	fmt.Println("migrations applied")
	return 0
}
