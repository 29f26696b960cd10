package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
)

// s3Env is the test server's store URL ($HUELLA_TEST_S3, e.g.
// s3://huella-test?endpoint=127.0.0.1:8333&insecure=true, with
// $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY), which .ci/run starts.
const s3Env = "HUELLA_TEST_S3"

// MustOpenS3 opens an S3Store under a fresh prefix of the test bucket,
// with a fresh key, and returns a raw client on the same bucket to look at
// and tamper with the objects. Without a test server the test is skipped,
// or failed when CI=true.
func MustOpenS3(tb testing.TB) (*blob.S3Store, *minio.Client, string, string) {
	tb.Helper()
	key := make([]byte, blob.KeySize)
	rand.Read(key)
	return MustOpenS3Key(tb, key)
}

// MustOpenS3Key is MustOpenS3 with the key given.
func MustOpenS3Key(tb testing.TB, key []byte) (*blob.S3Store, *minio.Client, string, string) {
	tb.Helper()
	raw := os.Getenv(s3Env)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("$%s is not set: CI must run the S3 tests against the server .ci/run starts", s3Env)
		}
		tb.Skipf("no S3-compatible test server: set $%s (see .ci/run) to run this test", s3Env)
	}
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	client, err := minio.New(u.Query().Get("endpoint"), &minio.Options{
		Creds:  credentials.NewEnvAWS(),
		Secure: u.Query().Get("insecure") != "true",
	})
	if err != nil {
		tb.Fatal(err)
	}
	// Huella never creates buckets; the test makes its own.
	ctx := context.Background()
	if ok, err := client.BucketExists(ctx, u.Host); err != nil {
		tb.Fatalf("S3 test server at %s: %v", u.Query().Get("endpoint"), err)
	} else if !ok {
		if err := client.MakeBucket(ctx, u.Host, minio.MakeBucketOptions{}); err != nil {
			tb.Fatalf("create the test bucket: %v", err)
		}
	}
	var r [6]byte
	rand.Read(r[:])
	prefix := "test-" + hex.EncodeToString(r[:])
	u.Path = "/" + prefix
	s, err := blob.OpenS3(ctx, u.String(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return s, client, u.Host, prefix
}

func object(prefix, ref string) string { return prefix + "/" + ref[:2] + "/" + ref[2:4] + "/" + ref }

// TestS3Store runs the blob store's behaviour against a real S3-compatible
// server: content addressing, ciphertext only in the bucket, tampering and
// wrong keys refused, missing blobs ENOTFOUND, the same bytes as a file
// store, and the orphan sweep.
func TestS3Store(t *testing.T) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s, _, _, _ := MustOpenS3(t)
		data := []byte("a fingerprint image, say")
		ref, err := s.Put(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, ref); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get = %q, %v; want %q", got, err, data)
		}
		if ref2, _ := s.Put(ctx, data); ref2 != ref {
			t.Fatalf("same content gave refs %s and %s", ref, ref2)
		}
		if err := s.Delete(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, ref); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("Get after Delete: %v, want ENOTFOUND", err)
		}
		if err := s.Delete(ctx, ref); err != nil {
			t.Fatalf("deleting a missing blob: %v", err)
		}
	})
	t.Run("PutAll", func(t *testing.T) {
		s, _, _, _ := MustOpenS3(t)
		blobs := [][]byte{[]byte("right index"), []byte("left iris"), []byte("right index"), []byte("face"), []byte("tattoo"), []byte("slap")}
		refs, err := s.PutAll(ctx, blobs)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != len(blobs) || refs[0] != refs[2] || refs[0] == refs[1] {
			t.Fatalf("refs = %v: want equal content under one ref, different under two", refs)
		}
		for i, ref := range refs {
			if got, err := s.Get(ctx, ref); err != nil || !bytes.Equal(got, blobs[i]) {
				t.Fatalf("Get(%s) = %q, %v", ref, got, err)
			}
		}
		s.MaxSize = 5
		if _, err := s.PutAll(ctx, [][]byte{[]byte("too large")}); huella.ErrorCode(err) != huella.ETOOLARGE {
			t.Fatalf("err = %v, want ETOOLARGE", err)
		}
	})
	t.Run("NoPlaintextInTheBucket", func(t *testing.T) {
		s, client, bucket, prefix := MustOpenS3(t)
		secret := []byte("PLAINTEXT-MARKER-0123456789")
		ref, err := s.Put(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := client.GetObject(ctx, bucket, object(prefix, ref), minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || len(b) == 0 {
			t.Fatalf("the object at %s: %d bytes, %v", object(prefix, ref), len(b), err)
		}
		if bytes.Contains(b, secret) {
			t.Error("the object holds the plaintext")
		}
	})
	t.Run("SameBytesAsFiles", func(t *testing.T) {
		// A blob copied from a data directory into the bucket reads back:
		// both stores write one format.
		dir := t.TempDir()
		key := bytes.Repeat([]byte{3}, blob.KeySize)
		files, err := blob.NewFileStore(dir, key)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := files.Put(ctx, []byte("an iris"))
		if err != nil {
			t.Fatal(err)
		}
		_, client, bucket, prefix := MustOpenS3(t)
		s, err := blob.OpenS3(ctx, "s3://"+bucket+"/"+prefix+"?"+s3Query(t), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.FPutObject(ctx, bucket, object(prefix, ref), filepath.Join(dir, ref[:2], ref[2:4], ref), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, ref); err != nil || string(got) != "an iris" {
			t.Fatalf("a file's blob read from the bucket: %q, %v", got, err)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		s, client, bucket, prefix := MustOpenS3(t)
		ref, _ := s.Put(ctx, []byte("image"))
		obj, _ := client.GetObject(ctx, bucket, object(prefix, ref), minio.GetObjectOptions{})
		b, _ := io.ReadAll(obj)
		obj.Close()
		b[len(b)-1] ^= 1
		if _, err := client.PutObject(ctx, bucket, object(prefix, ref), bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, ref); err == nil {
			t.Fatal("a tampered blob was read without error")
		}
		// Moved under another name: the reference is authenticated too.
		other, _ := s.Put(ctx, []byte("other image"))
		obj, _ = client.GetObject(ctx, bucket, object(prefix, other), minio.GetObjectOptions{})
		b, _ = io.ReadAll(obj)
		obj.Close()
		fake := strings.Repeat("ab", 32)
		client.PutObject(ctx, bucket, object(prefix, fake), bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{})
		if _, err := s.Get(ctx, fake); err == nil {
			t.Fatal("a blob moved to another reference was read")
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		s, _, bucket, prefix := MustOpenS3(t)
		ref, _ := s.Put(ctx, []byte("image"))
		other, err := blob.OpenS3(ctx, "s3://"+bucket+"/"+prefix+"?"+s3Query(t), bytes.Repeat([]byte{7}, blob.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Get(ctx, ref); err == nil {
			t.Fatal("read with another key")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s, _, _, _ := MustOpenS3(t)
		if _, err := s.Get(ctx, strings.Repeat("0", 62)+"aa"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("code = %q, want ENOTFOUND", huella.ErrorCode(err))
		}
		if _, err := s.Get(ctx, "../../etc/passwd"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatal("a path-like reference was not refused")
		}
	})
	t.Run("ErrNoBucket", func(t *testing.T) {
		_, _, _, _ = MustOpenS3(t)
		_, err := blob.OpenS3(ctx, "s3://no-such-bucket-huella?"+s3Query(t), bytes.Repeat([]byte{1}, blob.KeySize))
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("a missing bucket: %v, want an error that says so", err)
		}
		for _, bad := range []string{"http://bucket", "s3://", "s3://bucket?endpoint=x&colour=red"} {
			if _, err := blob.OpenS3(ctx, bad, bytes.Repeat([]byte{1}, blob.KeySize)); err == nil {
				t.Errorf("OpenS3(%q) accepted", bad)
			}
		}
	})
	t.Run("Sweep", func(t *testing.T) {
		s, _, _, _ := MustOpenS3(t)
		kept, _ := s.Put(ctx, []byte("referenced"))
		orphan, _ := s.Put(ctx, []byte("orphaned"))
		refs := func(ctx context.Context, fn func(string) error) error { return fn(kept) }
		// Everything was written after the cut-off: nothing is an orphan yet.
		r, err := s.Sweep(ctx, time.Now().Add(-time.Hour), refs, false)
		if err != nil || r.Blobs != 2 || r.Orphans != 0 || r.Deleted != 0 {
			t.Fatalf("sweep with an old cut-off: %+v, %v", r, err)
		}
		later := time.Now().Add(time.Hour)
		if r, err = s.Sweep(ctx, later, refs, true); err != nil || r.Orphans != 1 || r.Deleted != 0 {
			t.Fatalf("dry run: %+v, %v", r, err)
		}
		if r, err = s.Sweep(ctx, later, refs, false); err != nil || r.Orphans != 1 || r.Deleted != 1 {
			t.Fatalf("sweep: %+v, %v", r, err)
		}
		if _, err := s.Get(ctx, orphan); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("the orphan survived: %v", err)
		}
		if _, err := s.Get(ctx, kept); err != nil {
			t.Errorf("the referenced blob was swept: %v", err)
		}
	})
}

// s3Query returns the query of the test server's URL.
func s3Query(t *testing.T) string {
	u, err := url.Parse(os.Getenv(s3Env))
	if err != nil {
		t.Fatal(err)
	}
	return u.RawQuery
}
