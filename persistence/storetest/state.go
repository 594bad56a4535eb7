package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

func testCache(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	if _, ok, err := s.CachedProfile(ctx, "src", "d1"); ok || err != nil {
		t.Fatalf("CachedProfile before any put = %v, %v; want not cached", ok, err)
	}

	found := persistence.CacheEntry{
		Source: "src", DonorID: "d1", Outcome: persistence.OutcomeFound,
		Body: []byte("Type,Count\nA[C>A]A,1\n"), SHA256: "0a1b", URL: "http://127.0.0.1/d1",
		FetchedAt: time.Date(2025, 3, 4, 5, 6, 7, 8_123_456, time.UTC),
	}
	putAndCheck(t, s, found)

	gone := persistence.CacheEntry{
		Source: "src", DonorID: "d1", Outcome: persistence.OutcomeNotFound,
		URL: "http://127.0.0.1/d1", FetchedAt: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC),
	}
	putAndCheck(t, s, gone)

	if _, ok, err := s.CachedProfile(ctx, "other", "d1"); ok || err != nil {
		t.Errorf("CachedProfile of another source = %v, %v; want not cached", ok, err)
	}
}

// putAndCheck stores an entry and reads it back.
func putAndCheck(t *testing.T, s persistence.Store, want persistence.CacheEntry) {
	t.Helper()
	ctx := context.Background()
	if err := s.PutProfile(ctx, want); err != nil {
		t.Fatalf("PutProfile: %v", err)
	}
	got, ok, err := s.CachedProfile(ctx, want.Source, want.DonorID)
	if err != nil || !ok {
		t.Fatalf("CachedProfile after PutProfile = %v, %v; want cached", ok, err)
	}
	if got.Source != want.Source || got.DonorID != want.DonorID || got.Outcome != want.Outcome ||
		!bytes.Equal(got.Body, want.Body) || got.SHA256 != want.SHA256 || got.URL != want.URL ||
		!got.FetchedAt.Equal(want.FetchedAt.Truncate(time.Millisecond)) {
		t.Errorf("CachedProfile = %+v, want %+v (time to the millisecond)", got, want)
	}
}

func testBlobs(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	if _, _, err := s.Blob(ctx, "results/w1.csv"); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("Blob before any put = %v, want ErrNotFound", err)
	}
	for _, want := range []struct {
		contentType string
		data        []byte
	}{
		{"text/csv", []byte("id,a\nx,1\n")},
		{"application/octet-stream", []byte{0, 1, 2, 0xff}},
		{"text/plain", nil},
	} {
		if err := s.PutBlob(ctx, "results/w1.csv", want.contentType, want.data); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
		data, contentType, err := s.Blob(ctx, "results/w1.csv")
		if err != nil || contentType != want.contentType || !bytes.Equal(data, want.data) {
			t.Errorf("Blob = %q, %q, %v; want %q, %q", data, contentType, err, want.data, want.contentType)
		}
	}
}

func testLockBucket(t *testing.T, s persistence.Store) {
	ctx := context.Background()
	first := mustLock(t, s)
	if second, err := s.LockBucket(ctx); second != nil || err != nil {
		t.Fatalf("LockBucket while held = %v, %v; want nil, nil", second, err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	third := mustLock(t, s)
	select {
	case <-third.Lost():
		t.Error("Lost is closed on a healthy lock")
	default:
	}
	if err := third.Release(ctx); err != nil {
		t.Errorf("Release: %v", err)
	}
	if err := third.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if again, err := s.LockBucket(ctx); again == nil || err != nil {
		t.Errorf("LockBucket after a double Release = %v, %v; want a lock", again, err)
	}
}

func testLockLostOnClose(t *testing.T, s persistence.Store) {
	l := mustLock(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-l.Lost():
	case <-time.After(time.Minute):
		t.Fatal("Lost is still open a minute after Close")
	}
}

// mustLock takes the bucket lock or ends the test.
func mustLock(t testing.TB, s persistence.Store) persistence.Lock {
	t.Helper()
	l, err := s.LockBucket(context.Background())
	if err != nil || l == nil {
		t.Fatalf("LockBucket = %v, %v; want a lock", l, err)
	}
	return l
}
