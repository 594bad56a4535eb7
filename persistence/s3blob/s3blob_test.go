package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/s3blob"
	"github.com/signalscrape/signalscrape/persistence/s3blob/s3test"
)

func open(t *testing.T, srv *s3test.Server, prefix string) *s3blob.Store {
	t.Helper()
	s, err := s3blob.Open(context.Background(), srv.Config(prefix))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, s3test.Start(t), "runs")
	for _, want := range []struct {
		contentType string
		data        []byte
	}{
		{"text/csv", []byte("Type,a\nA[C>A]A,1\n")},
		{"image/png", []byte{0x89, 'P', 'N', 'G', 0, 0xff}},
		{"text/plain", nil},
	} {
		if err := s.Put(ctx, "results/w1.csv", want.contentType, want.data); err != nil {
			t.Fatalf("Put: %v", err)
		}
		data, contentType, err := s.Get(ctx, "results/w1.csv")
		if err != nil || contentType != want.contentType || !bytes.Equal(data, want.data) {
			t.Errorf("Get = %q, %q, %v; want %q, %q", data, contentType, err, want.data, want.contentType)
		}
	}
}

func TestMissingIsNotFound(t *testing.T) {
	t.Parallel()
	s := open(t, s3test.Start(t), "")
	_, _, err := s.Get(context.Background(), "uploads/nothing.csv")
	if !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
}

func TestPrefixIsRespected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := s3test.Start(t)
	a := open(t, srv, "team/a/")
	b := open(t, srv, "team/b")
	if err := a.Put(ctx, "results/w1.csv", "text/csv", []byte("from a")); err != nil {
		t.Fatalf("Put: %v", err)
	}

	if data, ok := srv.Object(t, "team/a/results/w1.csv"); !ok || string(data) != "from a" {
		t.Errorf("object team/a/results/w1.csv = %q, %v; want the data under the prefix", data, ok)
	}
	if _, ok := srv.Object(t, "results/w1.csv"); ok {
		t.Error("the object is also stored outside the prefix")
	}
	if _, _, err := b.Get(ctx, "results/w1.csv"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("another prefix sees the object: Get = %v, want ErrNotFound", err)
	}
	if bucket, prefix := b.Location(); bucket != s3test.Bucket || prefix != "team/b/" {
		t.Errorf("Location = %q, %q; want %q, %q", bucket, prefix, s3test.Bucket, "team/b/")
	}
}

// TestLargeBlob stores more than one part of a multipart upload.
func TestLargeBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, s3test.Start(t), "big")
	want := make([]byte, 17<<20)
	if _, err := rand.Read(want); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "uploads/big.csv", "text/csv", want); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, _, err := s.Get(ctx, "uploads/big.csv")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get = %d bytes, %v; want the %d bytes stored", len(got), err, len(want))
	}
}

func TestBadKeysAreRefused(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	s := open(t, srv, "p")
	for _, key := range []string{"", "../x", "a/../../x", "a//b", "./a", "a/", "a\nb", strings.Repeat("k", 800)} {
		if err := s.Put(context.Background(), key, "text/plain", []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", key)
		}
	}
}

func TestOpenChecksTheBucket(t *testing.T) {
	t.Parallel()
	cfg := s3test.Start(t).Config("p")
	cfg.URL = "s3://no-such-bucket/p"
	if _, err := s3blob.Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("Open on a missing bucket = %v, want an error naming it", err)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	good := []struct{ url, bucket, prefix string }{
		{"s3://bucket", "bucket", ""},
		{"s3://bucket/", "bucket", ""},
		{"s3://my.bucket-1/prefix", "my.bucket-1", "prefix/"},
		{"s3://bucket/a/b_c/d.e-f/", "bucket", "a/b_c/d.e-f/"},
	}
	for _, tt := range good {
		bucket, prefix, err := s3blob.ParseURL(tt.url)
		if err != nil || bucket != tt.bucket || prefix != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, bucket, prefix, err, tt.bucket, tt.prefix)
		}
	}
	bad := []string{
		"", "bucket/prefix", "http://bucket/p", "s3:///p", "s3://B/p", "s3://ab/p",
		"s3://bucket..x/p", "s3://-bucket/p", "s3://bucket:9000/p", "s3://key:secret@bucket/p",
		"s3://bucket/p?x=1", "s3://bucket/p#f", "s3://bucket/a/../b", "s3://bucket/a//b",
		"s3://bucket/a b", "s3://bucket/%2e%2e/x",
	}
	for _, raw := range bad {
		if _, _, err := s3blob.ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", raw)
		}
	}
}
