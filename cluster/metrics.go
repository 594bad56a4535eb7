package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signalscrape/signalscrape/actors"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 2 * time.Second

// The statuses every labelled family shows, zero or not, so that a series
// exists from the first scrape on.
var (
	workStatuses = []string{
		persistence.StatusPending, persistence.StatusRunning, persistence.StatusCompleted,
		persistence.StatusCompletedWithErrors, persistence.StatusFailed, persistence.StatusCancelled,
	}
	taskStatuses   = []string{"pending", "running", "completed", "failed", "cancelled"}
	memberStatuses = []string{"alive", "suspect", "dead", "left"}
	fetchOutcomes  = []string{
		actors.FetchOK, actors.FetchRejected, actors.FetchNotFound,
		actors.FetchThrottled, actors.FetchUnavailable, actors.FetchError,
	}
)

// The families computed at scrape time from what the node already holds.
var (
	worksDesc = prometheus.NewDesc("signalscrape_works",
		"Works in the store by status (the same on every member).", []string{"status"}, nil)
	tasksDesc = prometheus.NewDesc("signalscrape_tasks",
		"Tasks of the unfinished works active on this member, by status.", []string{"status"}, nil)
	membersDesc = prometheus.NewDesc("signalscrape_members",
		"Cluster members as this member sees them, by status.", []string{"status"}, nil)
	permitsInFlightDesc = prometheus.NewDesc("signalscrape_permits_in_flight",
		"Upstream request permits held by this member's tasks.", nil, nil)
	gapDesc = prometheus.NewDesc("signalscrape_gap_seconds",
		"The cluster-wide gap between upstream request starts in force: its lower and upper bound.", []string{"bound"}, nil)
	maxConcurrencyDesc = prometheus.NewDesc("signalscrape_max_concurrency",
		"The cluster-wide cap on upstream requests in flight in force.", nil, nil)
)

// nodeMetrics is a node's Prometheus instrumentation. It lives in package
// cluster because the node is where every number meets: it implements
// actors.Metrics for what the actors count, wraps the store the actors
// append through to time the appends, and reads at scrape time what the
// node already knows (works in the store, members, permits held, limits in
// force) rather than copying it into gauges. It registers on the registry
// given in Config.Metrics, never on the global one, so that several nodes can
// live in one process. It is safe for concurrent use.
type nodeMetrics struct {
	fetches       *prometheus.CounterVec
	fetchSeconds  prometheus.Histogram
	cacheHits     prometheus.Counter
	permits       prometheus.Counter
	settled       *prometheus.CounterVec
	appendSeconds prometheus.Histogram

	mu    sync.Mutex
	works map[string]*messages.Counts // guarded by mu
}

var _ actors.Metrics = (*nodeMetrics)(nil)

func newNodeMetrics() *nodeMetrics {
	m := &nodeMetrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signalscrape_fetches_total",
			Help: "Upstream requests made by this member, by outcome.",
		}, []string{"outcome"}),
		fetchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "signalscrape_fetch_seconds",
			Help:    "How long upstream requests of this member took.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signalscrape_cache_hits_total",
			Help: "Donors this member settled from the profile cache, without a request.",
		}),
		permits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signalscrape_permits_granted_total",
			Help: "Upstream request permits granted to this member's tasks.",
		}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signalscrape_tasks_settled_total",
			Help: "Tasks this member ran to their end, by result.",
		}, []string{"status"}),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "signalscrape_store_append_seconds",
			Help:    "How long appends to the event store took on this member.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		works: map[string]*messages.Counts{},
	}
	for _, o := range fetchOutcomes {
		m.fetches.WithLabelValues(o)
	}
	m.settled.WithLabelValues(persistence.StatusCompleted)
	m.settled.WithLabelValues(persistence.StatusFailed)
	return m
}

// register adds the node's metrics to reg.
func (m *nodeMetrics) register(reg prometheus.Registerer, n *Node) error {
	for _, c := range []prometheus.Collector{
		m.fetches, m.fetchSeconds, m.cacheHits, m.permits, m.settled, m.appendSeconds, scrapeCollector{n: n},
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Fetched records one upstream request.
func (m *nodeMetrics) Fetched(outcome string, took time.Duration) {
	m.fetches.WithLabelValues(outcome).Inc()
	m.fetchSeconds.Observe(took.Seconds())
}

// CacheHit records a donor settled from the cache.
func (m *nodeMetrics) CacheHit() { m.cacheHits.Inc() }

// PermitGranted records a permit received.
func (m *nodeMetrics) PermitGranted() { m.permits.Inc() }

// TaskSettled records a task's end.
func (m *nodeMetrics) TaskSettled(status string) { m.settled.WithLabelValues(status).Inc() }

// WorkTasks keeps the task counts of an unfinished work, or forgets it.
func (m *nodeMetrics) WorkTasks(workID string, counts *messages.Counts) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if counts == nil {
		delete(m.works, workID)
		return
	}
	m.works[workID] = counts
}

// taskTotals sums the kept counts by status, in the order of taskStatuses.
func (m *nodeMetrics) taskTotals() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t [5]int64
	for _, c := range m.works {
		t[0] += c.Pending
		t[1] += c.Running
		t[2] += c.Completed
		t[3] += c.Failed
		t[4] += c.Cancelled
	}
	return t[:]
}

// timedStore times the event appends of the store it wraps.
type timedStore struct {
	persistence.Store
	seconds prometheus.Histogram
}

// Append appends through the wrapped store and records how long it took.
func (s timedStore) Append(ctx context.Context, workID string, after int64, status string, events ...*messages.Event) error {
	began := time.Now()
	err := s.Store.Append(ctx, workID, after, status, events...)
	s.seconds.Observe(time.Since(began).Seconds())
	return err
}

// scrapeCollector reads the node's gauges when Prometheus scrapes.
type scrapeCollector struct{ n *Node }

// Describe sends the descriptions of the scrape-time families.
func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{worksDesc, tasksDesc, membersDesc, permitsInFlightDesc, gapDesc, maxConcurrencyDesc} {
		ch <- d
	}
}

// Collect reads the node; a family whose source fails is left out of the
// scrape rather than shown as zero.
func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()

	c.collectWorks(ctx, ch)
	for i, n := range c.n.metrics.taskTotals() {
		ch <- gauge(tasksDesc, float64(n), taskStatuses[i])
	}
	c.collectMembers(ch)
	ch <- gauge(permitsInFlightDesc, float64(c.n.current().deps.Permits.InFlight()))
	c.collectLimits(ctx, ch)
}

func (c scrapeCollector) collectWorks(ctx context.Context, ch chan<- prometheus.Metric) {
	counter, ok := c.n.cfg.Store.(persistence.WorkCounter)
	if !ok {
		return
	}
	counts, err := counter.CountWorks(ctx)
	if err != nil {
		c.n.log.Debug("metrics: counting works", "err", err)
		return
	}
	for _, s := range workStatuses {
		ch <- gauge(worksDesc, float64(counts[s]), s)
	}
}

func (c scrapeCollector) collectMembers(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, v := range c.n.current().members.Members() {
		counts[v.Status]++
	}
	for _, s := range memberStatuses {
		ch <- gauge(membersDesc, float64(counts[s]), s)
	}
}

func (c scrapeCollector) collectLimits(ctx context.Context, ch chan<- prometheus.Metric) {
	l, err := c.n.Limits(ctx)
	if err != nil {
		c.n.log.Debug("metrics: reading limits", "err", err)
		return
	}
	ch <- gauge(gapDesc, l.MinInterval.Seconds(), "min")
	ch <- gauge(gapDesc, l.MaxInterval.Seconds(), "max")
	ch <- gauge(maxConcurrencyDesc, float64(l.MaxConcurrency))
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}
