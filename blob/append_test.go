package blob_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/huella-abis/huella"
)

// getAppender is a store that decrypts blobs into the caller's buffer.
type getAppender interface {
	huella.BlobStore
	GetAppend(ctx context.Context, dst []byte, ref string) ([]byte, error)
}

// testGetAppend checks that GetAppend appends each blob's plaintext after
// what the buffer holds, several in a row into one buffer, and answers a
// missing or tampered blob as Get does, the buffer left as it was.
// tamper flips a byte of the stored blob.
func testGetAppend(t *testing.T, s getAppender, tamper func(ref string)) {
	ctx := context.Background()
	images := [][]byte{bytes.Repeat([]byte("right index "), 50000), []byte("left iris"), bytes.Repeat([]byte{7}, 1<<20)}
	refs, err := s.PutAll(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("HSU1 header|")
	buf := append([]byte(nil), want...)
	for i, ref := range refs {
		if buf, err = s.GetAppend(ctx, buf, ref); err != nil {
			t.Fatalf("GetAppend(images[%d]): %v", i, err)
		}
		want = append(want, images[i]...)
		if !bytes.Equal(buf, want) {
			t.Fatalf("after images[%d]: %d bytes, not the header and the images so far", i, len(buf))
		}
	}
	gone, err := s.Put(ctx, []byte("deleted"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for name, ref := range map[string]string{"Deleted": gone, "NotARef": "../../etc/passwd"} {
		got, err := s.GetAppend(ctx, want, ref)
		if huella.ErrorCode(err) != huella.ENOTFOUND || len(got) != len(want) {
			t.Fatalf("%s: GetAppend = %d bytes, %v; want ENOTFOUND and the buffer as it was", name, len(got), err)
		}
	}
	tamper(refs[0])
	got, err := s.GetAppend(ctx, want, refs[0])
	if err == nil || !bytes.Equal(got, want) {
		t.Fatalf("tampered blob: GetAppend = %d bytes, %v; want an error and the buffer as it was", len(got), err)
	}
	if _, gerr := s.Get(ctx, refs[0]); gerr == nil {
		t.Fatal("Get opened the tampered blob")
	}
}

func TestFileStoreGetAppend(t *testing.T) {
	s, dir := MustOpen(t)
	testGetAppend(t, s, func(ref string) {
		p := filepath.Join(dir, "blobs", ref[:2], ref[2:4], ref)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 1
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	})
}

func TestS3StoreGetAppend(t *testing.T) {
	s, client, bucket, prefix := MustOpenS3(t)
	testGetAppend(t, s, func(ref string) {
		ctx := context.Background()
		obj, err := client.GetObject(ctx, bucket, object(prefix, ref), minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		if _, err := raw.ReadFrom(obj); err != nil {
			t.Fatal(err)
		}
		obj.Close()
		b := raw.Bytes()
		b[len(b)/2] ^= 1
		if _, err := client.PutObject(ctx, bucket, object(prefix, ref), bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
