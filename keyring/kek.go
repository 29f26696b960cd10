// Package keyring is Huella's key hierarchy: a key-encryption key (KEK)
// from outside the data directory (a key file, an environment variable, or
// a KMS behind the KEK interface) wraps the data keys, which the store
// keeps wrapped next to the records they protect. The data keys seal
// personal fields (huella.FieldCipher); an index key makes the blind-index
// tokens of name and document search; a blob key seals the images.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella/internal/keyfile"
)

// KeySize is the size of every key in bytes (AES-256, HMAC-SHA256).
const KeySize = 32

// ErrWrongKEK is returned when the KEK given is not the one that wrapped
// the store's keys.
var ErrWrongKEK = errors.New("keyring: the key-encryption key is not the one that wrapped this store's keys")

// KEK wraps and unwraps data keys. A KMS plugs in here: Wrap and Unwrap are
// its encrypt and decrypt calls, and the KEK's material never leaves it.
type KEK interface {
	// ID names the KEK (never its material); every wrapped key records it.
	ID() string
	// Wrap encrypts key, binding it to aad.
	Wrap(ctx context.Context, key, aad []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned, or fails with ErrWrongKEK.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// LocalKEK is a KEK held in memory: read from a key file or an environment
// variable.
type LocalKEK struct {
	aead cipher.AEAD
	id   string
	raw  []byte
}

var _ KEK = (*LocalKEK)(nil)

// NewLocalKEK returns the KEK of the 32-byte key.
func NewLocalKEK(key []byte) (*LocalKEK, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: a key-encryption key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &LocalKEK{aead: aead, id: KEKID(key), raw: append([]byte(nil), key...)}, nil
}

// KEKID returns the public ID of a local KEK: a hash from which the key
// cannot be recovered.
func KEKID(key []byte) string {
	h := sha256.Sum256(append([]byte("huella kek id v1\x00"), key...))
	return "kek-" + hex.EncodeToString(h[:8])
}

// ID names the KEK.
func (k *LocalKEK) ID() string { return k.id }

// Raw returns the KEK's bytes. Only a data directory from before the key
// hierarchy needs them: its images were sealed with this key directly.
func (k *LocalKEK) Raw() []byte { return append([]byte(nil), k.raw...) }

// Wrap encrypts key with a fresh nonce.
func (k *LocalKEK) Wrap(_ context.Context, key, aad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, key, aad), nil
}

// Unwrap decrypts a wrapped key.
func (k *LocalKEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(wrapped) < ns+k.aead.Overhead() {
		return nil, ErrWrongKEK
	}
	key, err := k.aead.Open(nil, wrapped[:ns], wrapped[ns:], aad)
	if err != nil {
		return nil, ErrWrongKEK
	}
	return key, nil
}

// ParseKEK reads a KEK given as text (an environment variable): 32 bytes in
// standard or URL-safe base64, or in hex.
func ParseKEK(s string) (*LocalKEK, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == KeySize {
			return NewLocalKEK(b)
		}
	}
	return nil, fmt.Errorf("keyring: a key-encryption key in text is %d bytes in hex or base64", KeySize)
}

// LoadKEKFile reads a KEK file: 32 raw bytes, or their hex or base64 text.
// A missing file is an error wrapping fs.ErrNotExist; a file readable by
// others is refused.
func LoadKEKFile(path string) (*LocalKEK, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	if len(b) == KeySize {
		return NewLocalKEK(b)
	}
	k, err := ParseKEK(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %d bytes, want %d raw bytes or their hex or base64", path, len(b), KeySize)
	}
	return k, nil
}

// CreateKEKFile writes a new random KEK to path with mode 0600 (its
// directory 0700); an existing file is an error.
func CreateKEKFile(path string) (*LocalKEK, error) {
	key, err := keyfile.Create(path, KeySize)
	if err != nil {
		return nil, err
	}
	return NewLocalKEK(key)
}

// IsNotExist reports whether err is a missing key file.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Inside reports whether path is inside dir (both made absolute, symbolic
// links resolved where they exist): a key there would travel with every
// copy of the data it protects.
func Inside(path, dir string) bool {
	p, d := resolve(path), resolve(dir)
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func resolve(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	// Resolve the longest existing prefix.
	dir, rest := p, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
