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

// fileMagic starts every stored blob: format version 2 is magic, the
// 8-byte ID of the key that sealed it (KeyID), a 12-byte nonce, then the
// AES-256-GCM ciphertext and tag, with the reference as additional data (so
// a blob moved to another reference fails to open). Version 1 (fileMagicV1)
// had no key ID and is still read. Every BlobStore of this package writes
// the same bytes, so a blob copied between a directory and a bucket reads
// back.
var (
	fileMagic   = []byte("HBL2")
	fileMagicV1 = []byte("HBL1")
)

// keyIDSize is the size of the key ID in a blob.
const keyIDSize = 8

// sealer names and encrypts blobs with two subkeys of the data key: one
// encrypts, one names (an HMAC of the plaintext, so equal images share one
// blob and the name reveals nothing without the key).
type sealer struct {
	aead   cipher.AEAD
	macKey []byte
	id     []byte // KeyID's bytes
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
	return &sealer{aead: aead, macKey: derive(key, "huella blob naming v1"), id: derive(key, "huella blob key id v1")[:keyIDSize]}, nil
}

// KeyID names the key the blobs are sealed with (a hash of it, from which
// it cannot be recovered); every blob written carries it.
func (s *sealer) KeyID() string { return hex.EncodeToString(s.id) }

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
	out := make([]byte, 0, len(fileMagic)+keyIDSize+len(nonce)+len(data)+s.aead.Overhead())
	out = append(out, fileMagic...)
	out = append(out, s.id...)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, data, []byte(ref)), nil
}

// open decrypts the blob stored under ref; a blob that fails authentication
// is an error, never returned.
func (s *sealer) open(ref string, raw []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	var body []byte
	switch {
	case len(raw) >= len(fileMagic)+keyIDSize+ns+s.aead.Overhead() && bytes.Equal(raw[:len(fileMagic)], fileMagic):
		if id := raw[len(fileMagic) : len(fileMagic)+keyIDSize]; !bytes.Equal(id, s.id) {
			return nil, fmt.Errorf("blob %s: sealed with key %x, not with this store's key %s", ref, id, s.KeyID())
		}
		body = raw[len(fileMagic)+keyIDSize:]
	case len(raw) >= len(fileMagicV1)+ns+s.aead.Overhead() && bytes.Equal(raw[:len(fileMagicV1)], fileMagicV1):
		body = raw[len(fileMagicV1):]
	default:
		return nil, fmt.Errorf("blob %s: not a blob file", ref)
	}
	plain, err := s.aead.Open(nil, body[:ns], body[ns:], []byte(ref))
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
