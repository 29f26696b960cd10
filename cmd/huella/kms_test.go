package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/huella-abis/huella/kms"
)

var (
	softHSMOnce sync.Once
	softHSMErr  error
	softHSMURI  string // with %s for the key label
)

// MustSoftHSM returns a pkcs11: URI of a fresh SoftHSM2 token (made once
// per test process: the library reads its configuration once), with %s
// for the key's label, and sets the PIN in $HUELLA_PKCS11_PIN. Without
// SoftHSM2 the test is skipped, or failed when CI=true.
func MustSoftHSM(tb testing.TB) string {
	tb.Helper()
	module := os.Getenv("HUELLA_TEST_PKCS11_MODULE")
	for _, m := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(m); err == nil && module == "" {
			module = m
		}
	}
	util, err := exec.LookPath("softhsm2-util")
	if module == "" || err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("SoftHSM2 is not installed: CI must run the PKCS#11 tests (apt-get install softhsm2; see .ci/run)")
		}
		tb.Skip("SoftHSM2 is not installed (apt-get install softhsm2): PKCS#11 tests not run")
	}
	softHSMOnce.Do(func() {
		dir, err := os.MkdirTemp("", "huella-softhsm-")
		if err != nil {
			softHSMErr = err
			return
		}
		conf := filepath.Join(dir, "softhsm2.conf")
		os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
		os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
		os.Setenv("SOFTHSM2_CONF", conf)
		if out, err := exec.Command(util, "--init-token", "--free", "--label", "huella-cmd", "--pin", "2468", "--so-pin", "13572468").CombinedOutput(); err != nil {
			softHSMErr = errors.New("softhsm2-util --init-token: " + err.Error() + ": " + string(out))
			return
		}
		softHSMURI = "pkcs11:token=huella-cmd;object=%s?module-path=" + module
	})
	if softHSMErr != nil {
		tb.Fatal(softHSMErr)
	}
	tb.Setenv(kms.PINEnv, "2468")
	return softHSMURI
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
