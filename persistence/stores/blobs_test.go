package stores_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/s3blob"
	"github.com/signalscrape/signalscrape/persistence/s3blob/s3test"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
	"github.com/signalscrape/signalscrape/persistence/stores"
	"github.com/signalscrape/signalscrape/persistence/storetest"
)

// withS3 opens an embedded store in a temp dir with its files under prefix
// on srv.
func withS3(t *testing.T, srv *s3test.Server, prefix string, logger *slog.Logger) (persistence.Store, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := stores.WithBlobs(ctx, db, srv.Config(prefix), logger)
	if err != nil {
		t.Fatalf("WithBlobs: %v", err)
	}
	return s, db
}

// TestStoreWithS3 runs the conformance suite on the embedded store with its
// files in object storage, each subtest under a prefix of its own.
func TestStoreWithS3(t *testing.T) {
	srv := s3test.Start(t)
	storetest.Run(t, func(t *testing.T) persistence.Store {
		s, _ := withS3(t, srv, t.Name(), slog.New(slog.DiscardHandler))
		return s
	})
}

func TestBlobsGoToS3(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	var logs bytes.Buffer
	s, db := withS3(t, srv, "node-files", slog.New(slog.NewTextHandler(&logs, nil)))

	if err := s.PutBlob(ctx, "results/w1.csv", "text/csv", []byte("Type,a\n")); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if data, ok := srv.Object(t, "node-files/results/w1.csv"); !ok || string(data) != "Type,a\n" {
		t.Errorf("object in S3 = %q, %v; want the file", data, ok)
	}
	if _, _, err := db.Blob(ctx, "results/w1.csv"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("the database holds the file too: Blob = %v, want ErrNotFound", err)
	}
	if !strings.Contains(logs.String(), "prefix=node-files/") || strings.Contains(logs.String(), s3test.SecretAccessKey) {
		t.Errorf("log should name the prefix and not the secret:\n%s", logs.String())
	}
}

func TestEmptyBlobURLKeepsTheStore(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer db.Close()
	s, err := stores.WithBlobs(context.Background(), db, s3blob.Config{}, nil)
	if err != nil || s != persistence.Store(db) {
		t.Errorf("WithBlobs without a URL = %T, %v; want the store itself", s, err)
	}
}
