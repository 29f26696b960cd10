package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
