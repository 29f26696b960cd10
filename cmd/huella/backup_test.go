package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// TestBackupRestore backs up a serving store while officers enroll,
// restores the backup into another data directory, verifies the audit
// chain there and decrypts every image its records name.
func TestBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Backup test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	srv := MustServe(t, data, freeAddr(t))
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	images = images[:2] // two fingers: enough to write images, light on a shared machine
	clients := startEnrolling(t, srv, officer, images, 2, 60*time.Second)
	waitFor(t, 120*time.Second, func() bool { return len(clients.Acked()) >= 2 })
	before := len(clients.Acked())
	// Back up until one backup overlaps an acknowledged enrollment (a few
	// tries at most; each backup must succeed either way).
	var dest string
	var stdout, stderr bytes.Buffer
	during := 0
	for try := 0; try < 8 && during == 0; try++ {
		start := len(clients.Acked())
		dest = filepath.Join(t.TempDir(), "backup")
		stdout.Reset()
		stderr.Reset()
		if err := Run(context.Background(), []string{"backup", "--data", data, dest}, &stdout, &stderr); err != nil {
			t.Fatalf("backup: %v\n%s", err, stderr.String())
		}
		during = len(clients.Acked()) - start
	}
	clients.Stop()
	t.Logf("backup: %s(%d enrollments acknowledged during it)", stdout.String(), during)
	if !strings.Contains(stderr.String(), "backup: blobs: ") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
	manifest, err := os.ReadFile(filepath.Join(dest, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(data + ".key") // the key-encryption key, beside the data directory
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(manifest, key) || strings.Contains(string(manifest), string(must(json.Marshal(key)))) {
		t.Fatal("the manifest holds the data key")
	}
	if _, err := os.Stat(filepath.Join(dest, "keys")); err == nil {
		t.Fatal("the backup holds the keys directory")
	}

	restored := t.TempDir()
	t.Run("ErrNoKey", func(t *testing.T) {
		err := Run(context.Background(), []string{"restore", "--data", restored, dest}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "needs data key dk-") {
			t.Errorf("restore without the key: %v", err)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		other := t.TempDir()
		MustRun(t, "site", "add", "--data", other, "--code", "MX-TAP", "--name", "Other", "--country", "MEX", "--tz", "America/Mexico_City") // makes another key
		err := Run(context.Background(), []string{"restore", "--data", filepath.Join(other, "new"),
			"--key-file", other + ".key", dest}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "was encrypted with") {
			t.Errorf("restore with another key: %v", err)
		}
	})
	if err := os.WriteFile(restored+".key", key, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrTampered", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad")
		copyTree(t, dest, bad)
		var blobFile string
		filepath.WalkDir(filepath.Join(bad, "blobs"), func(p string, d os.DirEntry, err error) error {
			if d != nil && !d.IsDir() {
				blobFile = p
			}
			return nil
		})
		b, _ := os.ReadFile(blobFile)
		b[len(b)-1] ^= 1
		os.WriteFile(blobFile, b, 0o600)
		err := Run(context.Background(), []string{"restore", "--data", restored, bad}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("restore of an altered blob: %v", err)
		}
		if _, err := os.Stat(filepath.Join(restored, "huella.db")); err == nil {
			t.Error("a refused restore left a store in place")
		}
	})

	out := MustRun(t, "restore", "--data", restored, dest)
	if !strings.Contains(out, "audit chain intact") {
		t.Errorf("restore = %q", out)
	}
	if out := MustRun(t, "audit", "verify", "--data", restored); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify after restore = %q", out)
	}
	if err := Run(context.Background(), []string{"restore", "--data", restored, dest}, io.Discard, io.Discard); err == nil {
		t.Error("a restore over a restored store was accepted")
	}
	app, err := OpenApp(context.Background(), Config{Data: restored}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx := systemContext(context.Background(), huella.PurposeAdministration)
	encounters, err := app.Store.ListEncounters(ctx, huella.EncounterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(encounters) < before {
		t.Errorf("%d encounters restored, want at least the %d acknowledged before the backup", len(encounters), before)
	}
	images2 := 0
	for _, e := range encounters {
		if len(e.Samples) != len(images) {
			t.Errorf("encounter %s restored with %d samples, want %d", e.ID, len(e.Samples), len(images))
		}
		for _, s := range e.Samples {
			if _, err := app.Blobs.Get(ctx, s.ImageRef); err != nil {
				t.Fatalf("encounter %s sample %s: %v", e.ID, s.ID, err)
			}
			images2++
		}
	}
	t.Logf("%d encounters, %d images restored and decrypted", len(encounters), images2)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeManifest feeds restore's manifest reader arbitrary bytes: an
// error or a manifest whose blob paths stay under blobs/, never a panic.
func FuzzDecodeManifest(f *testing.F) {
	ref := strings.Repeat("ab", 32)
	f.Add([]byte(`{"format":1,"store":"sqlite","data_key_id":"dk-1","database":{"size":1,"sha256":"aa"},"blobs":{"ab/ab/` + ref + `":{"size":1,"sha256":"bb"}}}`))
	f.Add([]byte(`{"format":1,"store":"sqlite","data_key_id":"dk-1","database":{"size":1,"sha256":"aa"},"blobs":{"../../etc/passwd":{}}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err != nil {
			return
		}
		for rel := range m.Blobs {
			if strings.Contains(rel, "..") || strings.HasPrefix(rel, "/") || len(rel) != 70 {
				t.Fatalf("accepted blob path %q", rel)
			}
		}
	})
}
