package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signalscrape/signalscrape/persistence"
)

// Health checks of a bucket lock's connection.
const (
	pingEvery   = time.Second
	pingTimeout = 5 * time.Second
)

// bucketLock is the token bucket's advisory lock, held by a connection taken
// out of the pool for as long as the lock lives. A goroutine pings that
// connection; when a ping fails the session, and with it the lock, may be
// gone, so Lost closes.
type bucketLock struct {
	s *Store
	// conn belongs to the watch goroutine until it has exited, then to
	// release.
	conn *pgx.Conn

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	watching chan struct{}

	releaseOnce sync.Once
	releaseErr  error
}

// LockBucket takes the bucket lock unless another session holds it, in which
// case it returns nil and no error.
func (s *Store) LockBucket(ctx context.Context) (persistence.Lock, error) {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("locking bucket: %w", err)
	}
	var locked bool
	if err := pooled.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, bucketLockKey).Scan(&locked); err != nil {
		pooled.Hijack().Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("locking bucket: %w", err)
	}
	if !locked {
		pooled.Release()
		return nil, nil
	}
	l := &bucketLock{
		s: s, conn: pooled.Hijack(),
		lost: make(chan struct{}), stop: make(chan struct{}), watching: make(chan struct{}),
	}
	go l.watch()
	if !s.track(l) {
		l.release(ctx)
		return nil, fmt.Errorf("locking bucket: %w", errClosed)
	}
	return l, nil
}

// track records a held lock, unless the store is closed.
func (s *Store) track(l *bucketLock) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.locks[l] = struct{}{}
	return true
}

// untrack forgets a released lock.
func (s *Store) untrack(l *bucketLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locks, l)
}

// watch pings the lock's connection until stopped or a ping fails.
func (l *bucketLock) watch() {
	defer close(l.watching)
	tick := time.NewTicker(pingEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		err := l.conn.Ping(ctx)
		cancel()
		if err != nil {
			l.markLost()
			return
		}
	}
}

// Lost is closed when the lock's connection fails or the store closes.
func (l *bucketLock) Lost() <-chan struct{} {
	return l.lost
}

// markLost closes Lost once.
func (l *bucketLock) markLost() {
	l.lostOnce.Do(func() { close(l.lost) })
}

// Release unlocks and closes the lock's connection. Calling it again does
// nothing. A lock already lost releases without error: its session is gone.
func (l *bucketLock) Release(ctx context.Context) error {
	l.s.untrack(l)
	return l.release(ctx)
}

// release stops the watcher, then unlocks and closes the connection.
func (l *bucketLock) release(ctx context.Context) error {
	l.releaseOnce.Do(func() {
		close(l.stop)
		<-l.watching
		select {
		case <-l.lost:
		default:
			if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, bucketLockKey); err != nil {
				l.releaseErr = fmt.Errorf("releasing bucket lock: %w", err)
			}
		}
		// Ending the session frees the lock even if the unlock failed.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
		defer cancel()
		l.conn.Close(closeCtx)
	})
	return l.releaseErr
}
