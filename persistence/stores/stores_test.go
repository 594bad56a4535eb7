package stores_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/persistence/postgres"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
	"github.com/signalscrape/signalscrape/persistence/stores"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestEmptyURLOpensSQLite(t *testing.T) {
	var logs bytes.Buffer
	s, err := stores.Open(context.Background(), "", t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, ok := s.(*sqlite.Store); !ok {
		t.Errorf("Open without a URL gave a %T, want *sqlite.Store", s)
	}
	if !strings.Contains(logs.String(), "data_dir=") {
		t.Errorf("log does not name the data directory:\n%s", logs.String())
	}
}

func TestURLOpensPostgres(t *testing.T) {
	var logs bytes.Buffer
	url := strings.Replace(pgtest.ForTest(t), "postgres@", "postgres:hunter2@", 1)
	s, err := stores.Open(context.Background(), url, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("Open with a URL gave a %T, want *postgres.Store", s)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("log shows the password:\n%s", logs.String())
	}
}

// TestFailedOpenHidesPassword checks the errors and logs of a URL that does
// not parse and of a server that does not answer: neither shows the
// password, though both end up in the node's log.
func TestFailedOpenHidesPassword(t *testing.T) {
	for _, url := range []string{
		"postgres://signal:hunter2@127.0.0.1:1/signalscrape?connect_timeout=1",
		"postgres://signal:hunter2@127.0.0.1:notaport/signalscrape",
	} {
		var logs bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := stores.Open(ctx, url, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
		cancel()
		if err == nil {
			t.Fatalf("Open(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(logs.String(), "hunter2") {
			t.Errorf("the password shows:\nerror: %v\nlog: %s", err, logs.String())
		}
	}
}
