// Package s3test runs an S3-compatible server inside a test process, on
// loopback and in memory (github.com/johannesboyne/gofakes3), for the tests
// of the object store and of the nodes that use it.
package s3test

import (
	"bytes"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/signalscrape/signalscrape/persistence/s3blob"
)

// Bucket is the bucket that Start creates.
const Bucket = "signalscrape-test"

// The fake server checks no signatures; these keys only have to be present.
const (
	AccessKeyID     = "test-access-key"
	SecretAccessKey = "test-secret-key"
)

// Server is a running fake S3 server with one bucket, stopped when the test
// that started it ends. It speaks HTTPS with a certificate of its own: over
// plain HTTP the client signs uploads in aws-chunked form, which the fake
// server does not decode for the parts of a multipart upload.
type Server struct {
	// Endpoint is the server's base URL, https://127.0.0.1:port.
	Endpoint string

	srv     *httptest.Server
	backend *s3mem.Backend
}

// Start starts a server on 127.0.0.1 with an empty Bucket.
func Start(t testing.TB) *Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(Bucket); err != nil {
		t.Fatalf("creating bucket %s: %v", Bucket, err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return &Server{Endpoint: srv.URL, srv: srv, backend: backend}
}

// Transport trusts the server's certificate.
func (s *Server) Transport() http.RoundTripper { return s.srv.Client().Transport }

// CertFile writes the server's certificate in PEM form to a file in a temp
// dir and returns its path, for processes to trust through SSL_CERT_FILE.
func (s *Server) CertFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s3test.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o644); err != nil {
		t.Fatalf("writing the certificate: %v", err)
	}
	return path
}

// Config returns the configuration of a store under prefix in Bucket.
func (s *Server) Config(prefix string) s3blob.Config {
	return s3blob.Config{
		URL:             "s3://" + Bucket + "/" + prefix,
		Endpoint:        s.Endpoint,
		AccessKeyID:     AccessKeyID,
		SecretAccessKey: SecretAccessKey,
		Transport:       s.Transport(),
	}
}

// Object returns the stored object with the full name, bypassing any store,
// and whether it exists.
func (s *Server) Object(t testing.TB, name string) ([]byte, bool) {
	t.Helper()
	obj, err := s.backend.GetObject(Bucket, name, nil)
	if err != nil {
		return nil, false
	}
	defer obj.Contents.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, obj.Contents); err != nil {
		t.Fatalf("reading object %s: %v", name, err)
	}
	return buf.Bytes(), true
}
