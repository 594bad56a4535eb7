package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalscrape/signalscrape/migrations"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/persistence/postgres"
	"github.com/signalscrape/signalscrape/persistence/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a store on url, closed when the test ends.
func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persistence.Store { return open(t, pgtest.ForTest(t)) })
}

func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.ForTest(t)
	const nodes = 5
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(context.Background(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}

	conn := connect(t, url)
	var applied int
	err := conn.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&applied)
	if err != nil {
		t.Fatalf("counting migrations: %v", err)
	}
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("schema_migrations has %d rows, want %d", applied, len(files))
	}
	last := stores[nodes-1]
	if err := last.SetLimits(context.Background(), persistence.Limits{MaxConcurrency: 1}); err != nil {
		t.Errorf("SetLimits after the concurrent opens: %v", err)
	}
}

func TestLockBucketAcrossStores(t *testing.T) {
	ctx := context.Background()
	url := pgtest.ForTest(t)
	a, b := open(t, url), open(t, url)

	held, err := a.LockBucket(ctx)
	if err != nil || held == nil {
		t.Fatalf("LockBucket on a = %v, %v; want a lock", held, err)
	}
	if other, err := b.LockBucket(ctx); other != nil || err != nil {
		t.Fatalf("LockBucket on b while a holds it = %v, %v; want nil, nil", other, err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	other, err := b.LockBucket(ctx)
	if err != nil || other == nil {
		t.Fatalf("LockBucket on b after a released = %v, %v; want a lock", other, err)
	}
	other.Release(ctx)
}

func TestLockLostWhenBackendEnds(t *testing.T) {
	ctx := context.Background()
	url := pgtest.ForTest(t)
	s := open(t, url)
	l, err := s.LockBucket(ctx)
	if err != nil || l == nil {
		t.Fatalf("LockBucket = %v, %v; want a lock", l, err)
	}

	conn := connect(t, url)
	const kill = `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	var killed int
	if err := conn.QueryRow(ctx, kill).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the lock's backend: %d ended, %v; want 1", killed, err)
	}
	select {
	case <-l.Lost():
	case <-time.After(time.Minute):
		t.Fatal("Lost still open a minute after the backend was terminated")
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("Release of a lost lock: %v", err)
	}
	if again, err := s.LockBucket(ctx); again == nil || err != nil {
		t.Errorf("LockBucket after the loss = %v, %v; want a lock", again, err)
	}
}

func TestOpenHidesPassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://user:" + secret + "@127.0.0.1:1/db?connect_timeout=1&sslmode=disable",
		"postgres://user:" + secret + "@127.0.0.1:notaport/db",
	} {
		_, err := postgres.Open(ctx, url)
		if err == nil {
			t.Fatalf("Open of an unreachable server succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

func TestOpenFailsFastOnMissingDatabase(t *testing.T) {
	url := pgtest.ForTest(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	missing := strings.Replace(url, "/"+cfg.Database+"?", "/no_such_database?", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = postgres.Open(ctx, missing)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open of a missing database = %v, want an immediate error", err)
	}
}

// connect opens a plain connection, closed when the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, open(b, pgtest.ForTest(b)))
}
