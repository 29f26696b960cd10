package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
)

// TestS3Stream runs sealed streams (gallery snapshots) against a real
// S3-compatible server: sizes around the chunk size round-trip, the
// bucket holds no plaintext, tampering, truncation, renaming and a foreign
// key are refused, and the blob sweep leaves streams alone.
func TestS3Stream(t *testing.T) {
	ctx := context.Background()
	s, client, bucket, prefix := MustOpenS3(t)
	t.Run("RoundTrip", func(t *testing.T) {
		for _, size := range []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 17} {
			data := make([]byte, size)
			rand.Read(data)
			if _, err := s.PutStream(ctx, "snapshots/round-trip.hgs", bytes.NewReader(data)); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			got := mustReadStream(t, s, "snapshots/round-trip.hgs")
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d: read back %d bytes, not what was written", size, len(got))
			}
		}
	})
	t.Run("NoPlaintextInTheBucket", func(t *testing.T) {
		secret := bytes.Repeat([]byte("PLAINTEXT-MARKER-0123456789"), 1000)
		if _, err := s.PutStream(ctx, "snapshots/secret", bytes.NewReader(secret)); err != nil {
			t.Fatal(err)
		}
		if raw := mustRawObject(t, client, bucket, prefix+"/snapshots/secret"); bytes.Contains(raw, secret[:27]) {
			t.Error("the object holds the plaintext")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := s.GetStream(ctx, "snapshots/none"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})
	t.Run("ErrName", func(t *testing.T) {
		for _, name := range []string{"", "../x", "a//b", "/a", "a b", strings.Repeat("ab", 32)} {
			if _, err := s.PutStream(ctx, name, strings.NewReader("x")); huella.ErrorCode(err) != huella.EINVALID {
				t.Errorf("PutStream(%q): %v, want EINVALID", name, err)
			}
		}
	})
	data := make([]byte, 2<<20+5)
	rand.Read(data)
	if _, err := s.PutStream(ctx, "snapshots/a", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	raw := mustRawObject(t, client, bucket, prefix+"/snapshots/a")
	refused := func(t *testing.T, name string, body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, bucket, prefix+"/"+name, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		r, err := s.GetStream(ctx, name)
		if err != nil {
			return
		}
		defer r.Close()
		if b, err := io.ReadAll(r); err == nil {
			t.Fatalf("read %d bytes of an altered stream without an error", len(b))
		}
	}
	t.Run("ErrTampered", func(t *testing.T) {
		b := bytes.Clone(raw)
		b[len(b)/2] ^= 1
		refused(t, "snapshots/tampered", b)
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		// Cut after the second chunk: whole chunks, but not the last one.
		refused(t, "snapshots/truncated", raw[:len(raw)-(5+12+5+16)])
		refused(t, "snapshots/truncated2", raw[:len(raw)/2])
	})
	t.Run("ErrRenamed", func(t *testing.T) {
		refused(t, "snapshots/renamed", raw)
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		other, _, _, otherPrefix := MustOpenS3(t)
		if _, err := other.PutStream(ctx, "snapshots/foreign", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		refused(t, "snapshots/foreign", mustRawObject(t, client, bucket, otherPrefix+"/snapshots/foreign"))
	})
	t.Run("SweepLeavesStreams", func(t *testing.T) {
		none := func(ctx context.Context, fn func(string) error) error { return nil }
		if _, err := s.Sweep(ctx, time.Now().Add(time.Hour), none, false); err != nil {
			t.Fatal(err)
		}
		if got := mustReadStream(t, s, "snapshots/a"); !bytes.Equal(got, data) {
			t.Fatal("the sweep changed a stream")
		}
		if err := s.DeleteStream(ctx, "snapshots/a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetStream(ctx, "snapshots/a"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("after DeleteStream: %v, want ENOTFOUND", err)
		}
	})
}

func mustReadStream(tb testing.TB, s *blob.S3Store, name string) []byte {
	tb.Helper()
	r, err := s.GetStream(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustRawObject(tb testing.TB, client *minio.Client, bucket, name string) []byte {
	tb.Helper()
	obj, err := client.GetObject(context.Background(), bucket, name, minio.GetObjectOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
