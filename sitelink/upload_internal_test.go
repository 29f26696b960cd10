package sitelink

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// BenchmarkUploadBuild measures the site's part of sending an encounter
// of 13 images of 1.5 MB: reading and opening the sealed blobs and
// building the message, as the relay did (Get, then AppendUpload into a
// reused buffer) and does (GetAppend straight into it).
func BenchmarkUploadBuild(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "data.key"))
	if err != nil {
		b.Fatal(err)
	}
	store, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		b.Fatal(err)
	}
	e := &huella.Encounter{ID: "enc_1", SiteCode: "MX-TIJ"}
	images := make([][]byte, 13)
	for i := range images {
		images[i] = bytes.Repeat([]byte{byte(i), 1, 2, 3, 4}, 300025)
	}
	refs, err := store.PutAll(ctx, images)
	if err != nil {
		b.Fatal(err)
	}
	for i, ref := range refs {
		e.Samples = append(e.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: i + 1, ImageRef: ref})
	}
	b.Run("Get", func(b *testing.B) {
		var buf []byte
		b.SetBytes(13 * 1500125)
		defer reportCPU(b)()
		for b.Loop() {
			u := &Upload{Encounter: e, Images: make([][]byte, len(e.Samples))}
			for i, smp := range e.Samples {
				if u.Images[i], err = store.Get(ctx, smp.ImageRef); err != nil {
					b.Fatal(err)
				}
			}
			if buf, err = AppendUpload(buf[:0], u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetAppend", func(b *testing.B) {
		var buf []byte
		b.SetBytes(13 * 1500125)
		defer reportCPU(b)()
		for b.Loop() {
			u, err := appendUploadBlobs(ctx, buf[:0], e, store)
			if err != nil {
				b.Fatal(err)
			}
			buf = u.wire
		}
	})
}

// reportCPU starts counting the process's CPU time (the GC's included);
// the function it returns reports it per operation as cpu-ms/op, the
// figure to compare on a loaded machine.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
