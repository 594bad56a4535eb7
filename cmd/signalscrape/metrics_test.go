package main

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/profile/fixtures"
	"github.com/signalscrape/signalscrape/source/mocksignal"
)

// TestSingleNodeMetrics scrapes /metrics of a real node before and after a
// work, and after the same upload again from the cache: every family is
// there from the start, and the counters move by what the works did.
func TestSingleNodeMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	m := startMock(t, "--latency", "1ms")
	const contact = "ops@example.org"
	n := launchNode(t, m, nodeSpec{name: "metered", dataDir: t.TempDir(), extra: []string{"--contact", contact}})
	input := fixtures.Path(t, "pcawg_ids_matched_DonorID.csv")
	const donors = 30

	before := scrape(t, n)
	for _, name := range []string{
		"signalscrape_works", "signalscrape_tasks", "signalscrape_tasks_settled_total",
		"signalscrape_fetches_total", "signalscrape_fetch_seconds", "signalscrape_cache_hits_total",
		"signalscrape_permits_in_flight", "signalscrape_permits_granted_total",
		"signalscrape_gap_seconds", "signalscrape_max_concurrency", "signalscrape_members",
		"signalscrape_store_append_seconds", "go_goroutines",
	} {
		if before[name] == nil {
			t.Errorf("family %s is missing", name)
		}
	}
	checkDashboard(t, before)
	if got := value(before, "signalscrape_members", "status", "alive"); got != 1 {
		t.Errorf("alive members %v, want 1", got)
	}
	if got := value(before, "signalscrape_gap_seconds", "bound", "min"); got != testMinGap.Seconds() {
		t.Errorf("gap lower bound %v, want %v", got, testMinGap.Seconds())
	}

	first := upload(t, n.client, input, client.UploadOptions{MaxTasks: donors})
	waitStatus(t, n.client, first.IDWork, 2*time.Minute, finished)
	after := scrape(t, n)
	fetches := sum(after, "signalscrape_fetches_total")
	switch {
	case fetches < donors:
		t.Errorf("%v fetches for %d donors", fetches, donors)
	case histogramCount(after, "signalscrape_fetch_seconds") != uint64(fetches):
		t.Errorf("fetch latency has %d observations for %v fetches", histogramCount(after, "signalscrape_fetch_seconds"), fetches)
	case sum(after, "signalscrape_permits_granted_total") < fetches:
		t.Errorf("%v permits granted for %v fetches", sum(after, "signalscrape_permits_granted_total"), fetches)
	case sum(after, "signalscrape_tasks_settled_total") != donors:
		t.Errorf("%v tasks settled, want %d", sum(after, "signalscrape_tasks_settled_total"), donors)
	case histogramCount(after, "signalscrape_store_append_seconds") == 0:
		t.Error("no event-store append was timed")
	case value(after, "signalscrape_works", "status", "running")+value(after, "signalscrape_works", "status", "pending") != 0:
		t.Error("a finished work is still counted as unfinished")
	case sum(after, "signalscrape_works") != 1:
		t.Errorf("%v works, want 1", sum(after, "signalscrape_works"))
	}

	checkUserAgent(t, m, "signalscrape/"+version, contact)

	second := upload(t, n.client, input, client.UploadOptions{MaxTasks: donors})
	waitStatus(t, n.client, second.IDWork, 2*time.Minute, finished)
	again := scrape(t, n)
	if got := sum(again, "signalscrape_cache_hits_total"); got != donors {
		t.Errorf("%v cache hits on the second upload, want %d", got, donors)
	}
	if got := sum(again, "signalscrape_fetches_total"); got != fetches {
		t.Errorf("the cached upload made %v more fetches", got-fetches)
	}
}

// scrape reads the node's /metrics with Prometheus's own text parser.
func scrape(t *testing.T, n *node) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + n.http + "/metrics")
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	return families
}

// value is the counter or gauge of a family whose label has the given value.
func value(families map[string]*dto.MetricFamily, name, label, want string) float64 {
	for _, m := range families[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == want {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

// sum adds the counters or gauges of every series of a family.
func sum(families map[string]*dto.MetricFamily, name string) float64 {
	var total float64
	for _, m := range families[name].GetMetric() {
		total += m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	return total
}

func histogramCount(families map[string]*dto.MetricFamily, name string) uint64 {
	var total uint64
	for _, m := range families[name].GetMetric() {
		total += m.GetHistogram().GetSampleCount()
	}
	return total
}

// checkUserAgent checks that every request of a donor that the site saw
// names the service and its contact.
func checkUserAgent(t *testing.T, m *mock, want ...string) {
	t.Helper()
	entries, err := mocksignal.ReadLog(m.log)
	if err != nil {
		t.Fatal(err)
	}
	donors := 0
	for _, e := range entries {
		if e.ID == "" {
			continue
		}
		donors++
		for _, w := range want {
			if !strings.Contains(e.UserAgent, w) {
				t.Fatalf("request %s came with User-Agent %q, which lacks %q", e.Path, e.UserAgent, w)
			}
		}
	}
	if donors == 0 {
		t.Fatal("the site saw no request for a donor")
	}
}

// checkDashboard checks that every metric the Grafana dashboard queries is
// one the node exposes, so that the two cannot drift apart.
func checkDashboard(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\b(signalscrape|go)_[a-z_]+`).FindAllString(string(data), -1)
	if len(names) < 10 {
		t.Fatalf("the dashboard names only %v", names)
	}
	for _, name := range names {
		if families[strings.TrimSuffix(name, "_bucket")] == nil {
			t.Errorf("the dashboard queries %s, which /metrics does not have", name)
		}
	}
}
