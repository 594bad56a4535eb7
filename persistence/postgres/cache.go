package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/internal/record"
)

// CachedProfile returns the cached answer of source for a donor.
func (s *Store) CachedProfile(ctx context.Context, source, donorID string) (
	persistence.CacheEntry, bool, error,
) {
	const q = `SELECT outcome, body, sha256, url, fetched_at FROM profiles WHERE source = $1 AND donor_id = $2`
	e := persistence.CacheEntry{Source: source, DonorID: donorID}
	var outcome string
	err := s.pool.QueryRow(ctx, q, source, donorID).Scan(&outcome, &e.Body, &e.SHA256, &e.URL, &e.FetchedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return persistence.CacheEntry{}, false, nil
	}
	if err != nil {
		return persistence.CacheEntry{}, false, fmt.Errorf("reading cached profile: %w", err)
	}
	e.Outcome = persistence.Outcome(outcome)
	e.FetchedAt = e.FetchedAt.UTC()
	return e, true, nil
}

// PutProfile stores or replaces a cached answer.
func (s *Store) PutProfile(ctx context.Context, e persistence.CacheEntry) error {
	const q = `INSERT INTO profiles (source, donor_id, outcome, body, sha256, url, fetched_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (source, donor_id) DO UPDATE SET outcome = excluded.outcome, body = excluded.body,
sha256 = excluded.sha256, url = excluded.url, fetched_at = excluded.fetched_at`
	_, err := s.pool.Exec(ctx, q, e.Source, e.DonorID, string(e.Outcome), e.Body, e.SHA256, e.URL,
		record.Millis(e.FetchedAt))
	if err != nil {
		return fmt.Errorf("storing cached profile: %w", err)
	}
	return nil
}

// PutBlob stores or replaces a file under a generated key.
func (s *Store) PutBlob(ctx context.Context, key, contentType string, data []byte) error {
	const q = `INSERT INTO blobs (key, content_type, data, created_at) VALUES ($1, $2, $3, now())
ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
created_at = excluded.created_at`
	if data == nil {
		data = []byte{}
	}
	if _, err := s.pool.Exec(ctx, q, key, contentType, data); err != nil {
		return fmt.Errorf("storing blob: %w", err)
	}
	return nil
}

// Blob returns a stored file and its content type, or persistence.ErrNotFound.
func (s *Store) Blob(ctx context.Context, key string) ([]byte, string, error) {
	const q = `SELECT data, content_type FROM blobs WHERE key = $1`
	var data []byte
	var contentType string
	err := s.pool.QueryRow(ctx, q, key).Scan(&data, &contentType)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("reading blob %s: %w", key, persistence.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading blob: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, contentType, nil
}
