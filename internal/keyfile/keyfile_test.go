package keyfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/keyfile"
)

// TestCreate: a new key is random, of its size, owner-only in an
// owner-only directory, and never overwritten.
func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "data.key")
	key, err := keyfile.Create(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil || len(key) != 32 || !bytes.Equal(onDisk, key) || bytes.Equal(key, make([]byte, 32)) {
		t.Fatalf("key %x on disk %x, %v; want the same 32 random bytes", key, onDisk, err)
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if _, err := keyfile.Create(path, 32); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second Create: %v, want fs.ErrExist", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, key) {
		t.Error("the second Create changed the key")
	}
}
