package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/storetest"
)

// blobUsage counts the images of a data directory, or of the bucket that
// $HUELLA_BLOBS names, by the key that sealed them.
func blobUsage(t *testing.T, data string) map[string]int {
	t.Helper()
	var s interface {
		KeyUsage(context.Context) (map[string]int, error)
	}
	var err error
	zero := make([]byte, blob.KeySize) // KeyUsage reads headers only
	if bucket := os.Getenv("HUELLA_BLOBS"); bucket != "" {
		s, err = blob.OpenS3(storetest.Context(), bucket, zero)
	} else {
		s, err = blob.NewFileStore(filepath.Join(data, "blobs"), zero)
	}
	if err != nil {
		t.Fatal(err)
	}
	usage, err := s.KeyUsage(storetest.Context())
	if err != nil {
		t.Fatal(err)
	}
	return usage
}

// TestRotateBlobKeyUnderLoad enrolls while "huella keys rotate --images"
// runs, kills the rotation with SIGKILL midway, resumes it with "huella keys
// reencrypt --images" while enrollment goes on, and checks that every image
// still decrypts under its old name, nothing is lost, every image ends
// under the new key and the old key is retired: images in the data
// directory, and in an S3 bucket.
func TestRotateBlobKeyUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	t.Run("Directory", testRotateBlobKeyUnderLoad)
	t.Run("S3", func(t *testing.T) {
		u, _ := mustS3Prefix(t, "rotate-")
		t.Setenv("HUELLA_BLOBS", u.String()) // serve, keys and the test's look at the bucket
		testRotateBlobKeyUnderLoad(t)
	})
}

func testRotateBlobKeyUnderLoad(t *testing.T) {
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Rotation test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	supervisor := MustAddUser(t, data, "--name", "supervisor", "--role", "supervisor")
	srv := MustServe(t, data, freeAddr(t))
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	clients := startEnrolling(t, srv, officer, images, 3, 30*time.Second)
	deadline := time.Now().Add(120 * time.Second)
	for len(clients.Acked()) < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	before := keysByPurpose(t, data)
	oldKey := before[huella.KeyPurposeBlob][0]
	usage := blobUsage(t, data)
	if len(usage) != 1 {
		t.Fatalf("images before the rotation under %d keys: %v", len(usage), usage)
	}
	var oldID string
	for id := range usage {
		oldID = id
	}

	// Reseal one image per sync, and kill it a few in.
	var logs bytes.Buffer
	rotate := exec.Command(os.Args[0], "keys", "rotate", "--images", "--data", data, "--batch", "1")
	rotate.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	rotate.Stdout, rotate.Stderr = &logs, &logs
	if err := rotate.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { rotate.Wait(); close(exited) }()
	most := 0
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("the rotation ended before it was killed:\n%s", logs.String())
		default:
		}
		n := blobUsage(t, data)[oldID]
		most = max(most, n)
		if n <= most-5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := rotate.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	status := MustRun(t, "keys", "status", "--data", data)
	if !strings.Contains(status, "images under older keys "+oldKey) {
		t.Fatalf("the rotation finished before it was killed: %s\n%s", status, logs.String())
	}
	t.Logf("killed midway (%d of %d images left under the old key):\n%s", blobUsage(t, data)[oldID], most, status)

	// Resume while enrolling.
	out := MustRun(t, "keys", "reencrypt", "--images", "--data", data)
	t.Log(out)
	clients.Stop()
	acked := clients.Acked()
	after := keysByPurpose(t, data)
	if !strings.Contains(out, "blob key "+oldKey+" retired") {
		t.Errorf("the old blob key %s was not retired: %s", oldKey, out)
	}
	if len(after[huella.KeyPurposeBlob]) != 2 || len(after[huella.KeyPurposeBlobName]) != 1 || after["retired"] == nil || after["retired"][0] != oldKey {
		t.Errorf("keys after: %v", after)
	}
	usage = blobUsage(t, data)
	if usage[oldID] != 0 || len(usage) != 1 {
		t.Errorf("images by key after the rotation: %v", usage)
	}
	status = MustRun(t, "keys", "status", "--data", data)
	if strings.Contains(status, "images under older keys") {
		t.Errorf("status after: %s", status)
	}
	// A second pass finds nothing to move.
	out = MustRun(t, "keys", "reencrypt", "--images", "--data", data)
	if !strings.Contains(out, "resealed 0 images") {
		t.Errorf("a second pass found images to move: %s", out)
	}
	// Every image decrypts, through the server that ran throughout and
	// through a fresh one that never held the old key.
	for _, id := range acked {
		checkComplete(t, srv, supervisor, id, len(images))
	}
	srv.cmd.Process.Kill()
	srv.cmd.Wait()
	fresh := MustServe(t, data, freeAddr(t))
	for _, id := range acked {
		checkComplete(t, fresh, supervisor, id, len(images))
	}
	t.Logf("%d encounters enrolled during the rotation, every image decrypts", len(acked))
}

// TestServeResumesImageReseal: a blob key rotation cut short before any
// image moved is finished by the background work serve starts.
func TestServeResumesImageReseal(t *testing.T) {
	data := t.TempDir()
	ctx := storetest.Context()
	app, err := OpenApp(ctx, Config{Data: data}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	for _, img := range []string{"one image", "another image", "a third"} {
		ref, err := app.Blobs.Put(ctx, []byte(img))
		if err != nil {
			t.Fatal(err)
		}
		refs[ref] = img
	}
	old := app.Keys.ActiveBlobKeyID()
	if _, err := app.Keys.RotateBlob(ctx, blob.NamingKey); err != nil { // then killed
		t.Fatal(err)
	}
	app.Close()

	app, err = OpenApp(ctx, Config{Data: data, Existing: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.StartReencryption(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(blobWriteGrace + 30*time.Second)
	for keysByPurpose(t, data)["retired"] == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the old blob key %s was not retired: %v", old, blobUsage(t, data))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := keysByPurpose(t, data)["retired"]; len(got) != 1 || got[0] != old {
		t.Fatalf("retired %v, want %s", got, old)
	}
	for ref, img := range refs {
		if got, err := app.Blobs.Get(ctx, ref); err != nil || string(got) != img {
			t.Fatalf("image %s after the rotation: %q, %v", ref, got, err)
		}
	}
}
