package sqlite

import (
	"context"
	"fmt"
	"sync"

	"github.com/signalscrape/signalscrape/persistence"
)

// bucketLock is the token bucket's lock within this process. Since one
// process owns the data directory, an in-process lock is exclusive for the
// whole store.
type bucketLock struct {
	s    *Store
	once sync.Once
}

// LockBucket takes the bucket lock unless another holder has it, in which
// case it returns nil and no error.
func (s *Store) LockBucket(ctx context.Context) (persistence.Lock, error) {
	if s.closed() {
		return nil, fmt.Errorf("locking bucket: %w", errClosed)
	}
	select {
	case s.bucket <- struct{}{}:
		return &bucketLock{s: s}, nil
	default:
		return nil, nil
	}
}

// Lost is closed only when the store is closed.
func (l *bucketLock) Lost() <-chan struct{} {
	return l.s.done
}

// Release gives the lock back. Calling it again does nothing.
func (l *bucketLock) Release(ctx context.Context) error {
	l.once.Do(func() { <-l.s.bucket })
	return nil
}
