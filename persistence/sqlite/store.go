// Package sqlite keeps the state of a single signalscrape node in one SQLite
// file under its data directory, through the pure Go driver modernc.org/sqlite.
//
// One data directory serves one process: Open takes an exclusive lock on a
// file in it, so a second process (or a second Open) on the same directory
// fails with ErrInUse. The lock goes away with the process that held it, so a
// crashed node does not block the next start.
//
// SQLite allows one writer at a time. The store writes through a single
// connection, so writers queue in the process instead of failing with
// SQLITE_BUSY, and reads through a pool of read-only connections that run
// alongside the writer thanks to the write-ahead log.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	// The driver registers itself as "sqlite".
	_ "modernc.org/sqlite"
)

// File names inside the data directory.
const (
	DatabaseFile = "signalscrape.db"
	LockFile     = "signalscrape.lock"
)

// ErrInUse means another process (or another Open in this one) holds the
// data directory.
var ErrInUse = errors.New("data directory is in use by another signalscrape process")

// errClosed is returned by calls on a closed store.
var errClosed = errors.New("store is closed")

// Connection settings. The writer begins every transaction IMMEDIATE so that
// it takes the write lock up front; synchronous=NORMAL in WAL mode keeps
// commits fast and loses at most the last commits on a power cut, never on a
// crash of the process.
const (
	writerParams = "_txlock=immediate&_busy_timeout=10000&_foreign_keys=1" +
		"&_journal_mode=WAL&_synchronous=NORMAL"
	readerParams = "_busy_timeout=10000&_foreign_keys=1&_query_only=1"
)

// Store is the SQLite implementation of persistence.Store. Its methods are
// safe for concurrent use.
type Store struct {
	lockFile *os.File
	write    *sql.DB
	read     *sql.DB
	stmts    statements

	// bucket holds a token while the bucket lock is taken.
	bucket chan struct{}
	// done is closed by Close.
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the store in dir, creating the directory (mode 0700), the
// database and its tables as needed.
func Open(ctx context.Context, dir string) (*Store, error) {
	if strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("opening store in %q: the path may not contain ? or #", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	lockFile, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{lockFile: lockFile, bucket: make(chan struct{}, 1), done: make(chan struct{})}
	if err := s.open(ctx, filepath.Join(dir, DatabaseFile)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open connects to the database file, migrates it and prepares statements.
func (s *Store) open(ctx context.Context, path string) error {
	var err error
	if s.write, err = sql.Open("sqlite", path+"?"+writerParams); err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	if err := migrate(ctx, s.write); err != nil {
		return err
	}
	if s.read, err = sql.Open("sqlite", path+"?"+readerParams); err != nil {
		return fmt.Errorf("opening database for reading: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)
	return s.stmts.prepare(ctx, s.write)
}

// lockDir takes the exclusive lock on dir's lock file, without waiting.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("opening store in %s: %w", dir, ErrInUse)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking data directory: %w", err)
	}
	return f, nil
}

// Close closes the database and frees the data directory. It closes the
// bucket lock's Lost channel. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		var errs []error
		errs = append(errs, s.stmts.close())
		for _, db := range []*sql.DB{s.read, s.write} {
			if db != nil {
				errs = append(errs, db.Close())
			}
		}
		errs = append(errs, s.lockFile.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("closing store: %w", err)
		}
	})
	return s.closeErr
}

// closed reports whether Close was called.
func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
