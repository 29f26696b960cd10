package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestS3Blobs enrolls over HTTP with the images in an S3 bucket
// (--blobs s3://…) on the real server .ci/run starts: every image lands
// in the bucket, none in the data directory.
func TestS3Blobs(t *testing.T) {
	u, client := mustS3Prefix(t, "cmd-")
	ctx := context.Background()
	data := t.TempDir()
	out := MustRun(t, "bench", "enroll", "--data", data, "--blobs", u.String(), "--encounters", "3", "--concurrency", "2", "--json")
	var res enrollBenchResult
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("bench output %q: %v", out, err)
	}
	if res.Errors != 0 || res.Encounters != 3 {
		t.Fatalf("bench enroll with S3 blobs: %+v", res)
	}
	objects := 0
	for obj := range client.ListObjects(ctx, u.Host, minio.ListObjectsOptions{Prefix: u.Path[1:] + "/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		objects++
	}
	if want := 3 * res.ImagesPerEnc; objects < want {
		t.Errorf("%d objects in the bucket, want at least %d (every image)", objects, want)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "blobs")); len(entries) != 0 {
		t.Errorf("the data directory holds %d blob entries, want none", len(entries))
	}
}

// mustS3Prefix returns the URL of a fresh prefix of the test bucket on the
// server .ci/run starts (made if missing), and a client on it; the test is
// skipped without one, or failed when CI=true.
func mustS3Prefix(t *testing.T, name string) (*url.URL, *minio.Client) {
	t.Helper()
	raw := os.Getenv("HUELLA_TEST_S3")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("$HUELLA_TEST_S3 is not set: CI must run the S3 tests against the server .ci/run starts")
		}
		t.Skip("no S3-compatible test server: set $HUELLA_TEST_S3 (see .ci/run) to run this test")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := minio.New(u.Query().Get("endpoint"), &minio.Options{Creds: credentials.NewEnvAWS(), Secure: u.Query().Get("insecure") != "true"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := client.BucketExists(ctx, u.Host); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := client.MakeBucket(ctx, u.Host, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var r [6]byte
	rand.Read(r[:])
	u.Path = "/" + name + hex.EncodeToString(r[:])
	return u, client
}
