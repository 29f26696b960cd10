// Package keyfile writes the secret keys Huella keeps in files (the data
// key, the key-encryption key, the audit signing key): made once from the
// system's random source, never overwritten, readable by their owner only,
// and on disk before anything is sealed or signed with them.
package keyfile

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// Create writes a new random key of size bytes to path with mode 0600,
// making its directory with mode 0700, and syncs it. A file already there
// is an error (wrapping fs.ErrExist): a key is never overwritten.
func Create(path string, size int) ([]byte, error) {
	key := make([]byte, size)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	if err := WriteSync(path, key, 0o600, os.O_EXCL); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return key, nil
}

// WriteSync writes data to path, opened with os.O_WRONLY|os.O_CREATE|flag
// and perm, and syncs it to disk before it returns.
func WriteSync(path string, data []byte, perm os.FileMode, flag int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
