package blob

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/huella-abis/huella"
)

// fileMagic starts every stored blob: format version 1 is magic, a 12-byte
// nonce, then the AES-256-GCM ciphertext and tag, with the reference as
// additional data (so a blob moved to another reference fails to open).
// Every BlobStore of this package writes the same bytes, so a blob copied
// between a directory and a bucket reads back.
var fileMagic = []byte("HBL1")

// sealer names and encrypts blobs with two subkeys of the data key: one
// encrypts, one names (an HMAC of the plaintext, so equal images share one
// blob and the name reveals nothing without the key).
type sealer struct {
	aead   cipher.AEAD
	macKey []byte
}

// newSealer derives the sealer's subkeys from the 32-byte data key.
func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("blob: key must be %d bytes", KeySize)
	}
	block, err := aes.NewCipher(derive(key, "huella blob encryption v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, macKey: derive(key, "huella blob naming v1")}, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Ref returns the reference data would be stored under.
func (s *sealer) Ref(data []byte) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// seal encrypts data as the blob stored under ref.
func (s *sealer) seal(ref string, data []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(fileMagic)+len(nonce)+len(data)+s.aead.Overhead())
	out = append(out, fileMagic...)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, data, []byte(ref)), nil
}

// open decrypts the blob stored under ref; a blob that fails authentication
// is an error, never returned.
func (s *sealer) open(ref string, raw []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(raw) < len(fileMagic)+ns+s.aead.Overhead() || !bytes.Equal(raw[:len(fileMagic)], fileMagic) {
		return nil, fmt.Errorf("blob %s: not a blob file", ref)
	}
	nonce := raw[len(fileMagic) : len(fileMagic)+ns]
	plain, err := s.aead.Open(nil, nonce, raw[len(fileMagic)+ns:], []byte(ref))
	if err != nil {
		return nil, fmt.Errorf("blob %s: authentication failed (tampered, or another key): %w", ref, err)
	}
	return plain, nil
}

// checkSize returns ETOOLARGE when data is over maxSize (DefaultMaxSize when
// zero).
func checkSize(data []byte, maxSize int) error {
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	if len(data) > maxSize {
		return huella.Errorf(huella.ETOOLARGE, "blob larger than %d bytes", maxSize)
	}
	return nil
}

func validRef(ref string) bool {
	if len(ref) != 64 {
		return false
	}
	_, err := hex.DecodeString(ref)
	return err == nil
}
