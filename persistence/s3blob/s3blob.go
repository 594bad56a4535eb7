// Package s3blob keeps the files of signalscrape (uploaded originals, result
// matrices, evidence of failed steps) in S3-compatible object storage, so
// that every member of a cluster serves every download without the files
// passing through the database.
//
// It talks to the storage through github.com/minio/minio-go/v7. That client
// is one module with a handful of small dependencies, speaks to AWS S3 and to
// the S3-compatible servers (MinIO, Ceph, Garage, R2 and the like) alike,
// signs with SigV4, switches to multipart uploads for large objects by
// itself, and finds credentials where the AWS tools put them (variables,
// the shared credentials file, the role of an instance or a pod).
// aws-sdk-go-v2 does the same through a dozen modules and a configuration
// surface that a store of two calls does not need.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/signalscrape/signalscrape/persistence"
)

// awsEndpoint is the endpoint used when none is configured.
const awsEndpoint = "s3.amazonaws.com"

// defaultCustomRegion is the region signed for on a custom endpoint when
// none is configured; S3-compatible servers accept it.
const defaultCustomRegion = "us-east-1"

// maxKeyBytes bounds a stored key, leaving room for the prefix within the
// 1024 bytes that S3 allows for an object name.
const maxKeyBytes = 768

// Config says where the files go and how to reach the storage.
type Config struct {
	// URL is s3://bucket or s3://bucket/prefix. The prefix is made of
	// slash-separated segments of letters, digits, '.', '_' and '-'.
	URL string

	// Endpoint is the storage server: a URL such as http://127.0.0.1:9000
	// (the scheme chooses TLS) or a bare host name (TLS). Empty: the
	// variable AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS S3. A
	// custom endpoint is addressed path-style (http://host/bucket/key).
	Endpoint string

	// Region is signed into requests. Empty: AWS_REGION, then
	// AWS_DEFAULT_REGION; then, on AWS, the bucket's own region, and on a
	// custom endpoint us-east-1.
	Region string

	// AccessKeyID and SecretAccessKey, with an optional SessionToken, are
	// static credentials. Empty: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN, then the shared credentials file, then the role of
	// the instance or pod (IAM, web identity).
	AccessKeyID, SecretAccessKey, SessionToken string

	// Transport carries the requests; nil: http.DefaultTransport's settings.
	Transport http.RoundTripper
}

// Store keeps files in one bucket under one prefix. It is safe for
// concurrent use.
type Store struct {
	client *minio.Client
	bucket string
	prefix string // empty or ending in '/'
}

// Open checks cfg, connects to the storage and checks that the bucket
// exists. Credentials are never part of an error or a log line.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	client, err := newClient(cfg)
	if err != nil {
		return nil, err
	}

	ok, err := client.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("checking bucket %s: %w", bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %s does not exist", bucket)
	}
	return &Store{client: client, bucket: bucket, prefix: prefix}, nil
}

// Location returns the bucket and the prefix that keys are stored under
// (empty or ending in '/').
func (s *Store) Location() (bucket, prefix string) { return s.bucket, s.prefix }

// Put stores data under key with its content type, replacing what was there.
func (s *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	name, err := s.objectName(key)
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if _, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)), opts); err != nil {
		return fmt.Errorf("storing %s in bucket %s: %w", name, s.bucket, err)
	}
	return nil
}

// Get returns the data and content type stored under key, or an error
// wrapping persistence.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	name, err := s.objectName(key)
	if err != nil {
		return nil, "", err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("reading %s from bucket %s: %w", name, s.bucket, err)
	}
	defer obj.Close()

	info, err := obj.Stat()
	if err != nil {
		return nil, "", readError(name, s.bucket, err)
	}
	data := bytes.NewBuffer(make([]byte, 0, info.Size))
	if _, err := io.Copy(data, obj); err != nil {
		return nil, "", readError(name, s.bucket, err)
	}
	return data.Bytes(), info.ContentType, nil
}

// readError maps a missing object to persistence.ErrNotFound.
func readError(name, bucket string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("reading %s from bucket %s: %w", name, bucket, persistence.ErrNotFound)
	}
	return fmt.Errorf("reading %s from bucket %s: %w", name, bucket, err)
}

// objectName puts key under the prefix after checking that it is a
// well-formed relative key.
func (s *Store) objectName(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

func newClient(cfg Config) (*minio.Client, error) {
	endpoint := firstSet(cfg.Endpoint, os.Getenv("AWS_ENDPOINT_URL_S3"), os.Getenv("AWS_ENDPOINT_URL"))
	host, secure, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	opts := &minio.Options{
		Creds:     clientCredentials(cfg),
		Secure:    secure,
		Region:    firstSet(cfg.Region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		Transport: cfg.Transport,
	}
	if endpoint != "" {
		opts.BucketLookup = minio.BucketLookupPath
		opts.Region = firstSet(opts.Region, defaultCustomRegion)
	}

	client, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("making the S3 client for %s: %w", host, err)
	}
	return client, nil
}

// clientCredentials returns the static keys of cfg or, without them, the
// chain that the AWS tools follow.
func clientCredentials(cfg Config) *credentials.Credentials {
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
}

// parseEndpoint turns an endpoint setting into a host[:port] and whether to
// use TLS. Empty means AWS S3.
func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	if endpoint == "" {
		return awsEndpoint, true, nil
	}
	if !strings.Contains(endpoint, "://") {
		return endpoint, true, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("S3 endpoint %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.User != nil {
		return "", false, fmt.Errorf("S3 endpoint %q: want http(s)://host[:port] with no path or user", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// bucketName follows S3's rules for new buckets: 3 to 63 lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// prefixSegment is one slash-separated part of a prefix.
var prefixSegment = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ParseURL splits s3://bucket/prefix into the bucket and the prefix, which is
// empty or ends in '/'. It refuses anything but a plain bucket name and a
// prefix of safe segments.
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("blob URL: %w", err)
	}
	if u.Scheme != "s3" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "", fmt.Errorf("blob URL %q: want s3://bucket/prefix", raw)
	}
	if !bucketName.MatchString(u.Host) || strings.Contains(u.Host, "..") {
		return "", "", fmt.Errorf("blob URL %q: %q is not a valid bucket name", raw, u.Host)
	}

	p := strings.Trim(u.Path, "/")
	if p == "" {
		return u.Host, "", nil
	}
	for _, seg := range strings.Split(p, "/") {
		if !prefixSegment.MatchString(seg) || seg == "." || seg == ".." {
			return "", "", fmt.Errorf("blob URL %q: prefix segment %q: want letters, digits, '.', '_' or '-'", raw, seg)
		}
	}
	return u.Host, p + "/", nil
}

// errBadKey is wrapped by the error for a key that cannot be stored.
var errBadKey = errors.New("unusable blob key")

// checkKey refuses keys that are empty, too long, not UTF-8, hold control
// characters, or have empty, "." or ".." segments.
func checkKey(key string) error {
	if key == "" || len(key) > maxKeyBytes || !utf8.ValidString(key) {
		return fmt.Errorf("%w: %q", errBadKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q holds a control character", errBadKey, key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has an empty, '.' or '..' segment", errBadKey, key)
		}
	}
	return nil
}
