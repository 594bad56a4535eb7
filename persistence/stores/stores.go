// Package stores opens the persistence.Store that a node's configuration
// asks for. It lives apart from package persistence, which both stores
// import for their interface and errors.
package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/postgres"
	"github.com/signalscrape/signalscrape/persistence/s3blob"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
)

// Open opens the PostgreSQL store at databaseURL, or, when databaseURL is
// empty, the embedded SQLite store in dataDir. Either way the migrations are
// applied. The URL is never logged, since it may hold a password.
func Open(ctx context.Context, databaseURL, dataDir string, logger *slog.Logger) (persistence.Store, error) {
	if databaseURL == "" {
		s, err := sqlite.Open(ctx, dataDir)
		if err != nil {
			return nil, err
		}
		logger.Info("opened embedded store", "data_dir", dataDir)
		return s, nil
	}
	logger.Info("connecting to PostgreSQL store")
	s, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	logger.Info("opened PostgreSQL store")
	return s, nil
}

// WithBlobs returns store with its files (PutBlob, Blob) kept in the object
// storage that cfg names and everything else where it was. With an empty
// cfg.URL it returns store itself. The caller still closes store. Only the
// bucket and prefix are logged, never an endpoint's or a key's secret.
func WithBlobs(ctx context.Context, store persistence.Store, cfg s3blob.Config, logger *slog.Logger) (persistence.Store, error) {
	if cfg.URL == "" {
		return store, nil
	}
	blobs, err := s3blob.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the object storage: %w", err)
	}
	bucket, prefix := blobs.Location()
	logger.Info("keeping files in object storage", "bucket", bucket, "prefix", prefix)
	return blobStore{Store: store, blobs: blobs}, nil
}

// blobStore is a Store whose files live in object storage; every other
// method is the embedded store's.
type blobStore struct {
	persistence.Store
	blobs *s3blob.Store
}

// PutBlob stores the file in object storage.
func (s blobStore) PutBlob(ctx context.Context, key, contentType string, data []byte) error {
	return s.blobs.Put(ctx, key, contentType, data)
}

// Blob reads the file from object storage.
func (s blobStore) Blob(ctx context.Context, key string) ([]byte, string, error) {
	return s.blobs.Get(ctx, key)
}

// CountWorks counts the works of the wrapped store, which keeps them.
func (s blobStore) CountWorks(ctx context.Context) (map[string]int64, error) {
	counter, ok := s.Store.(persistence.WorkCounter)
	if !ok {
		return nil, errors.New("counting works: the store cannot")
	}
	return counter.CountWorks(ctx)
}
