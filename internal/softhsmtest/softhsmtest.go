// Package softhsmtest gives tests a real PKCS#11 token: a SoftHSM2 token
// made in a temporary directory.
package softhsmtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// PIN is the user PIN of the token Token makes.
const PIN = "4321"

// modules are where SoftHSM2's library is installed (Debian first);
// $HUELLA_TEST_PKCS11_MODULE overrides.
var modules = []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"}

var (
	once sync.Once
	err  error
	uri  string
)

// Token returns the pkcs11: URI of a fresh SoftHSM2 token, with %s where
// the key's label goes; its PIN is PIN. The token is made once per test
// process (a PKCS#11 library reads its configuration once). Without
// SoftHSM2 the test is skipped, or failed when CI=true (.ci/run installs
// it).
func Token(tb testing.TB) string {
	tb.Helper()
	module := os.Getenv("HUELLA_TEST_PKCS11_MODULE")
	for _, m := range modules {
		if module != "" {
			break
		}
		if _, err := os.Stat(m); err == nil {
			module = m
		}
	}
	util, lookErr := exec.LookPath("softhsm2-util")
	if module == "" || lookErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("SoftHSM2 is not installed: CI must run the PKCS#11 tests (apt-get install softhsm2; see .ci/run)")
		}
		tb.Skip("SoftHSM2 is not installed (apt-get install softhsm2): PKCS#11 tests not run")
	}
	once.Do(func() { uri, err = initToken(util, module) })
	if err != nil {
		tb.Fatal(err)
	}
	return uri
}

// initToken makes a token labelled huella-test in a new SoftHSM2
// configuration, and points the library at it through $SOFTHSM2_CONF.
func initToken(util, module string) (string, error) {
	dir, err := os.MkdirTemp("", "huella-softhsm-")
	if err != nil {
		return "", err
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return "", err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", "huella-test", "--pin", PIN, "--so-pin", "87654321").CombinedOutput()
	if err != nil {
		return "", errors.New("softhsm2-util --init-token: " + err.Error() + ": " + string(out))
	}
	return "pkcs11:token=huella-test;object=%s?module-path=" + module, nil
}
