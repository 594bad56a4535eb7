package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/persistence/pgtest"
	"github.com/signalscrape/signalscrape/persistence/s3blob/s3test"
	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// TestClusterS3Blobs runs two members on one PostgreSQL with their files in
// an S3 server of the test process: a work uploaded on one is downloaded from
// the other, and the upload and the result are objects under the prefix.
func TestClusterS3Blobs(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	srv := s3test.Start(t)
	t.Setenv("SSL_CERT_FILE", srv.CertFile(t))
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretAccessKey)
	blobs := []string{"--blob-url", "s3://" + s3test.Bucket + "/e2e", "--s3-endpoint", srv.Endpoint}

	dbURL := pgtest.ForTest(t)
	m := startMock(t, "--latency", "1ms")
	a := launchNode(t, m, nodeSpec{name: "s3a", databaseURL: dbURL, extra: blobs})
	b := launchNode(t, m, nodeSpec{name: "s3b", databaseURL: dbURL, join: a.gossip, extra: blobs})
	waitMembers(t, b, 2)

	input := fixtures.Path(t, "small_4_ids.csv")
	up := upload(t, a.client, input, client.UploadOptions{})
	st := waitStatus(t, b.client, up.IDWork, time.Minute, finished)
	var got bytes.Buffer
	if err := b.client.Download(context.Background(), st.IDWork, "csv", &got); err != nil {
		t.Fatalf("download from %s: %v", b.name, err)
	}
	if want := expectedMatrix(t, input); got.String() != want {
		t.Fatalf("matrix differs from the fixtures:\n%s", firstDiff(got.String(), want))
	}

	original, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	if data, ok := srv.Object(t, "e2e/uploads/"+up.IDWork+".csv"); !ok || !bytes.Equal(data, original) {
		t.Errorf("upload object: %d bytes, found %v; want the %d bytes uploaded", len(data), ok, len(original))
	}
	if data, ok := srv.Object(t, "e2e/results/"+up.IDWork+".csv"); !ok || !bytes.Equal(data, got.Bytes()) {
		t.Errorf("result object: %q, found %v; want the downloaded matrix", data, ok)
	}
}
