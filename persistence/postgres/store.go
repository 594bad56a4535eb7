// Package postgres keeps the state of a signalscrape cluster in PostgreSQL,
// shared by every node, through a pgx connection pool.
//
// Several nodes may open the same database at once: the migrations run under
// an advisory lock, so exactly one node applies each of them. The token
// bucket's lock is another advisory lock, held by a connection of its own.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Advisory lock keys of signalscrape, fixed so that every node uses the same.
const (
	migrationLockKey int64 = 0x5349_474e_0000_0001
	bucketLockKey    int64 = 0x5349_474e_0000_0002
	limitsLockKey    int64 = 0x5349_474e_0000_0003
)

// startupWait bounds how long Open waits for a server that is starting.
const startupWait = 30 * time.Second

// errClosed is returned by calls on a closed store.
var errClosed = errors.New("store is closed")

// Store is the PostgreSQL implementation of persistence.Store. Its methods
// are safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool

	// mu guards the bucket locks held through this store and closed.
	mu     sync.Mutex
	locks  map[*bucketLock]struct{}
	closed bool
}

// Open connects to the database at url, waiting up to half a minute for a
// server that is starting, and applies the migrations it lacks. Errors never
// show the URL, which may hold a password.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("parsing database URL: malformed (not shown, it may hold a password)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating connection pool: %w", err)
	}
	if err := waitForServer(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, locks: map[*bucketLock]struct{}{}}, nil
}

// waitForServer pings until the server answers, retrying while it cannot
// be reached or is still starting up.
func waitForServer(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, startupWait)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("connecting to database: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("connecting to database: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// retryable reports whether a failed connection may succeed later: the
// server could not be reached, or said it is starting up. A server that
// refuses us (bad password, no such database) will not change its mind.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P03"
	}
	return true
}

// Close releases the bucket locks still held, closing their Lost channels,
// and closes the pool. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	locks := s.locks
	s.locks = nil
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for l := range locks {
		errs = append(errs, l.release(ctx))
		l.markLost()
	}
	s.pool.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing store: %w", err)
	}
	return nil
}
