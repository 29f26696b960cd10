package sitelink

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
)

// TestAppendUploadBlobs checks that the upload the relay builds by reading
// the images straight into the message is byte for byte the one
// EncodeUpload writes from the images Get returns, that its Images are
// the images, and that a missing image fails the upload.
func TestAppendUploadBlobs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "data.key"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		t.Fatal(err)
	}
	images := [][]byte{bytes.Repeat([]byte{1}, 300000), {2, 3}, {}, bytes.Repeat([]byte{4}, 70000)}
	refs, err := store.PutAll(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	e := &huella.Encounter{ID: "enc_1", SiteCode: "MX-TIJ"}
	for i, ref := range refs {
		e.Samples = append(e.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: i + 1, ImageRef: ref})
	}
	want, err := EncodeUpload(&Upload{Encounter: e, Images: images})
	if err != nil {
		t.Fatal(err)
	}
	for _, dst := range [][]byte{nil, make([]byte, 0, 10), make([]byte, 0, 1<<20)} {
		u, err := appendUploadBlobs(ctx, dst, e, store)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(u.wire, want) {
			t.Fatalf("cap %d: the upload built from the blobs (%d bytes) is not EncodeUpload's (%d bytes)", cap(dst), len(u.wire), len(want))
		}
		for i := range images {
			if !bytes.Equal(u.Images[i], images[i]) {
				t.Fatalf("cap %d: Images[%d] is %d bytes, not the image's %d", cap(dst), i, len(u.Images[i]), len(images[i]))
			}
		}
		got, err := DecodeUpload(u.wire)
		if err != nil || len(got.Images) != len(images) {
			t.Fatalf("DecodeUpload: %v", err)
		}
	}
	if err := store.Delete(ctx, refs[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := appendUploadBlobs(ctx, nil, e, store); huella.ErrorCode(err) != huella.ENOTFOUND {
		t.Fatalf("an image missing: %v, want ENOTFOUND", err)
	}
}
