package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/internal/softhsmtest"
	"github.com/huella-abis/huella/kms"
)

// MustSoftHSM returns a pkcs11: URI of a fresh SoftHSM2 token, with %s
// for the key's label (see softhsmtest.Token), and sets its PIN in
// $HUELLA_PKCS11_PIN.
func MustSoftHSM(tb testing.TB) string {
	tb.Helper()
	uri := softhsmtest.Token(tb)
	tb.Setenv(kms.PINEnv, softhsmtest.PIN)
	return uri
}

// TestKMS runs a data directory whose KEK is in a SoftHSM2 token: made
// there on first start, needed afterwards, and movable to and from a key
// file by "huella keys rewrap".
func TestKMS(t *testing.T) {
	uri := strings.Replace(MustSoftHSM(t), "%s", "huella-kek", 1)
	data := filepath.Join(t.TempDir(), "data")
	MustRun(t, "site", "add", "--data", data, "--kms", uri, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	if _, err := os.Stat(data + ".key"); err == nil {
		t.Fatal("a key file was made beside the data directory with --kms")
	}
	out := MustRun(t, "keys", "status", "--data", data, "--kms", uri)
	if !strings.Contains(out, "KEK pkcs11-") {
		t.Fatalf("keys status = %q", out)
	}
	t.Run("ErrWithoutKMS", func(t *testing.T) {
		if err := runErr("site", "list", "--data", data); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v, want the missing key named", err)
		}
	})
	t.Run("ErrOtherTokenKey", func(t *testing.T) {
		other := strings.Replace(MustSoftHSM(t), "%s", "not-the-kek", 1)
		if err := runErr("site", "list", "--data", data, "--kms", other); err == nil || !strings.Contains(err.Error(), "no key of that label") {
			t.Fatalf("err = %v, want the missing key named", err)
		}
	})
	t.Run("ErrWrongPIN", func(t *testing.T) {
		t.Setenv(kms.PINEnv, "0000")
		if err := runErr("site", "list", "--data", data, "--kms", uri); err == nil {
			t.Fatal("a wrong PIN opened the token")
		}
	})
	// To a key file and back into the token.
	keyFile := filepath.Join(t.TempDir(), "kek")
	if out := MustRun(t, "keys", "rewrap", "--data", data, "--kms", uri, "--new-key-file", keyFile); !strings.Contains(out, "--key-file "+keyFile) {
		t.Errorf("rewrap to a file = %q", out)
	}
	if out := MustRun(t, "site", "list", "--data", data, "--key-file", keyFile); !strings.Contains(out, "MX-TAP") {
		t.Errorf("site list with the file = %q", out)
	}
	second := strings.Replace(MustSoftHSM(t), "%s", "huella-kek-2", 1)
	if out := MustRun(t, "keys", "rewrap", "--data", data, "--key-file", keyFile, "--new-kms", second); !strings.Contains(out, "wrapped by pkcs11-") {
		t.Errorf("rewrap into the token = %q", out)
	}
	if err := runErr("site", "list", "--data", data, "--key-file", keyFile); err == nil || !strings.Contains(err.Error(), "wrong --key-file") {
		t.Errorf("the key file after rewrapping into the token: %v", err)
	}
	if out := MustRun(t, "audit", "verify", "--data", data, "--kms", second); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify = %q", out)
	}
}

// TestBackupRestoreKMS backs up a data directory whose KEK is in a
// SoftHSM2 token and restores it with the same token: the backup carries
// the data keys wrapped by the token's key, never a key; restore needs
// --kms, refuses another key, and gives back records that decrypt
// and images that decrypt.
func TestBackupRestoreKMS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	uri := strings.Replace(MustSoftHSM(t), "%s", "huella-kek", 1)
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	app, err := OpenApp(ctx, Config{Data: data, KMS: uri}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, app.Store, app.Enroll, []byte("demo-key"), time.Now()); err != nil {
		app.Close()
		t.Fatal(err)
	}
	app.Close()

	dest := filepath.Join(t.TempDir(), "backup")
	out := MustRun(t, "backup", "--data", data, "--kms", uri, dest)
	if !strings.Contains(out, "data key pkcs11-") {
		t.Errorf("backup = %q, want the KMS key named", out)
	}
	var m Manifest
	manifest, err := os.ReadFile(filepath.Join(dest, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if !m.KMS || !strings.HasPrefix(m.DataKeyID, "pkcs11-") || len(m.Blobs) == 0 {
		t.Fatalf("manifest: kms %v, key %q, %d blobs", m.KMS, m.DataKeyID, len(m.Blobs))
	}

	restored := filepath.Join(t.TempDir(), "restored")
	t.Run("ErrWithoutKMS", func(t *testing.T) {
		if err := runErr("restore", "--data", restored, dest); err == nil || !strings.Contains(err.Error(), "give --kms") {
			t.Errorf("restore without --kms: %v", err)
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		other := strings.Replace(MustSoftHSM(t), "%s", "huella-kek-other", 1)
		if _, _, err := (&Config{Data: filepath.Join(t.TempDir(), "x"), KMS: other}).loadKMS(); err != nil {
			t.Fatal(err) // makes another key in the token
		}
		err := runErr("restore", "--data", restored, "--kms", other, dest)
		if err == nil || !strings.Contains(err.Error(), "was encrypted with") {
			t.Errorf("restore with another key of the token: %v", err)
		}
		if _, err := os.Stat(filepath.Join(restored, "huella.db")); err == nil {
			t.Error("a refused restore left a store in place")
		}
	})
	if out := MustRun(t, "restore", "--data", restored, "--kms", uri, dest); !strings.Contains(out, "audit chain intact") {
		t.Errorf("restore = %q", out)
	}
	app, err = OpenApp(ctx, Config{Data: restored, KMS: uri, Existing: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	actx := systemContext(ctx, huella.PurposeAdministration)
	list, err := app.Store.ListEncounters(actx, huella.EncounterFilter{Limit: 1000})
	if err != nil || len(list) == 0 {
		t.Fatalf("restored encounters: %d, %v", len(list), err)
	}
	images := 0
	for _, e := range list {
		if len(e.Biographics.Names) == 0 || e.Biographics.Names[0].Family == "" {
			t.Errorf("encounter %s: biographics did not come back", e.ID)
		}
		for _, s := range e.Samples {
			if _, err := app.Blobs.Get(actx, s.ImageRef); err != nil {
				t.Fatalf("encounter %s sample %s: %v", e.ID, s.ID, err)
			}
			images++
		}
	}
	t.Logf("%d encounters and %d images restored and decrypted with the token's KEK", len(list), images)
}
