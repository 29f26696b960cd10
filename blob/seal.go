package blob

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

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

// Keys are the keys a BlobStore seals and names blobs with. The naming key
// never changes, so that a blob keeps its name (the reference the records
// hold) when the sealing key is rotated.
type Keys struct {
	Active []byte   // seals every blob written from now on
	Others [][]byte // older keys: the blobs they sealed open until resealed
	// Naming is the HMAC key that names blobs; nil derives it from Active
	// (NamingKey), as a store whose blob key was never rotated does.
	Naming []byte
}

// KeySource returns the keys a BlobStore should use now: another process
// may have rotated the blob key. A store asks it before every write.
type KeySource func(ctx context.Context) (*Keys, error)

// blobKey is one sealing key.
type blobKey struct {
	raw  []byte
	aead cipher.AEAD
	id   []byte // KeyID's bytes
}

func newBlobKey(key []byte) (*blobKey, error) {
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
	return &blobKey{raw: append([]byte(nil), key...), aead: aead, id: derive(key, "huella blob key id v1")[:keyIDSize]}, nil
}

// sealer names and encrypts blobs: each sealing key gives an AES-GCM
// subkey, and a fixed naming key an HMAC of the plaintext (so equal images
// share one blob and the name reveals nothing without the key). It is safe
// for concurrent use; its keys change when the blob key is rotated.
type sealer struct {
	mu     sync.RWMutex
	active *blobKey
	keys   map[string]*blobKey // by KeyID
	macKey []byte
	named  bool // the naming key was given to SetKeys, and stays
	source KeySource
}

// newSealer returns the sealer of one 32-byte key (naming derived from it).
func newSealer(key []byte) (*sealer, error) {
	s := &sealer{}
	if err := s.SetKeys(&Keys{Active: key}); err != nil {
		return nil, err
	}
	s.named = false // a constructor's key: SetKeys may still give the naming key
	return s, nil
}

// SetKeys makes the store seal with k.Active and open with any of k's
// keys. The naming key must stay the one the store's blobs were named
// with: once given, a change is refused.
func (s *sealer) SetKeys(k *Keys) error {
	active, err := newBlobKey(k.Active)
	if err != nil {
		return err
	}
	keys := map[string]*blobKey{hex.EncodeToString(active.id): active}
	for _, o := range k.Others {
		bk, err := newBlobKey(o)
		if err != nil {
			return err
		}
		keys[hex.EncodeToString(bk.id)] = bk
	}
	mac := k.Naming
	if mac == nil {
		mac = NamingKey(k.Active)
	}
	if len(mac) != KeySize {
		return fmt.Errorf("blob: naming key must be %d bytes", KeySize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.named && !hmac.Equal(s.macKey, mac) {
		return errors.New("blob: the naming key changed: every blob would be renamed")
	}
	s.active, s.keys, s.macKey, s.named = active, keys, append([]byte(nil), mac...), true
	return nil
}

// SetKeySource makes the store ask source for its keys before every
// write, so that a rotation committed by another process takes effect at
// once.
func (s *sealer) SetKeySource(source KeySource) {
	s.mu.Lock()
	s.source = source
	s.mu.Unlock()
}

// refresh asks the key source, if any, for the current keys and takes
// them when the active one changed.
func (s *sealer) refresh(ctx context.Context) error {
	s.mu.RLock()
	source, active := s.source, s.active
	s.mu.RUnlock()
	if source == nil {
		return nil
	}
	k, err := source(ctx)
	if err != nil {
		return fmt.Errorf("blob: keys: %w", err)
	}
	if bytes.Equal(k.Active, active.raw) {
		return nil
	}
	return s.SetKeys(k)
}

// NamingKey returns the naming key a store derives from its blob key when
// none is given: the one to keep when that key is rotated away.
func NamingKey(key []byte) []byte { return derive(key, "huella blob naming v1") }

// KeyID returns the ID a blob sealed with key carries (a hash of the key,
// from which it cannot be recovered).
func KeyID(key []byte) string {
	return hex.EncodeToString(derive(key, "huella blob key id v1")[:keyIDSize])
}

// KeyID names the key new blobs are sealed with; every blob written
// carries it.
func (s *sealer) KeyID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return hex.EncodeToString(s.active.id)
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Ref returns the reference data would be stored under.
func (s *sealer) Ref(data []byte) string {
	s.mu.RLock()
	m := hmac.New(sha256.New, s.macKey)
	s.mu.RUnlock()
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// seal encrypts data as the blob stored under ref, with the active key.
func (s *sealer) seal(ref string, data []byte) ([]byte, error) { return s.appendSeal(nil, ref, data) }

// appendSeal appends to dst the blob seal returns.
func (s *sealer) appendSeal(dst []byte, ref string, data []byte) ([]byte, error) {
	s.mu.RLock()
	k := s.active
	s.mu.RUnlock()
	return k.appendSeal(dst, ref, data)
}

func (k *blobKey) seal(ref string, data []byte) ([]byte, error) { return k.appendSeal(nil, ref, data) }

// appendSeal appends to dst the blob stored under ref.
func (k *blobKey) appendSeal(dst []byte, ref string, data []byte) ([]byte, error) {
	var nonce [12]byte
	if k.aead.NonceSize() != len(nonce) {
		return nil, errors.New("blob: unexpected nonce size")
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	out := slices.Grow(dst, len(fileMagic)+keyIDSize+len(nonce)+len(data)+k.aead.Overhead())
	out = append(out, fileMagic...)
	out = append(out, k.id...)
	out = append(out, nonce[:]...)
	return k.aead.Seal(out, nonce[:], data, []byte(ref)), nil
}

// errNotBlob is the error of stored bytes that are no blob.
var errNotBlob = errors.New("not a blob file")

// headerSize is how many bytes of a blob name its key.
const headerSize = 4 + keyIDSize

// blobKeyID returns the ID of the key a stored blob names from its first
// bytes: "" for a blob of format 1, which names none.
func blobKeyID(raw []byte) (string, error) {
	switch {
	case len(raw) >= headerSize && bytes.Equal(raw[:len(fileMagic)], fileMagic):
		return hex.EncodeToString(raw[len(fileMagic) : len(fileMagic)+keyIDSize]), nil
	case len(raw) >= len(fileMagicV1) && bytes.Equal(raw[:len(fileMagicV1)], fileMagicV1):
		return "", nil
	}
	return "", errNotBlob
}

// open decrypts the blob stored under ref with the key it names (a blob of
// format 1 with whichever key opens it); a blob that fails authentication
// is an error, never returned.
func (s *sealer) open(ref string, raw []byte) ([]byte, error) {
	id, err := blobKeyID(raw)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", ref, err)
	}
	if id == "" {
		s.mu.RLock()
		keys := s.keys
		s.mu.RUnlock()
		var last error
		for _, k := range keys {
			plain, err := k.open(ref, raw[len(fileMagicV1):])
			if err == nil {
				return plain, nil
			}
			last = err
		}
		return nil, last
	}
	k, err := s.key(ref, id)
	if err != nil {
		return nil, err
	}
	return k.open(ref, raw[headerSize:])
}

// key returns the key of ID id that a blob of format 2 stored under ref
// names, or why there is none.
func (s *sealer) key(ref, id string) (*blobKey, error) {
	s.mu.RLock()
	k, activeID := s.keys[id], hex.EncodeToString(s.active.id)
	s.mu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("blob %s: sealed with key %s, not with this store's key %s (nor an older key it holds)", ref, id, activeID)
	}
	return k, nil
}

// open decrypts a blob's body (nonce, ciphertext and tag).
func (k *blobKey) open(ref string, body []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(body) < ns+k.aead.Overhead() {
		return nil, fmt.Errorf("blob %s: %w", ref, errNotBlob)
	}
	return k.appendOpen(nil, ref, body[:ns], body[ns:])
}

// appendOpen decrypts ciphertext and tag ct, appending the plaintext to dst
// (ct may be dst's spare capacity: GCM opens exactly overlapping buffers).
func (k *blobKey) appendOpen(dst []byte, ref string, nonce, ct []byte) ([]byte, error) {
	plain, err := k.aead.Open(dst, nonce, ct, []byte(ref))
	if err != nil {
		return nil, fmt.Errorf("blob %s: authentication failed (tampered, or another key): %w", ref, err)
	}
	return plain, nil
}

// reseal returns the blob stored under ref sealed again with the active
// key, or nil when it is sealed with it already.
func (s *sealer) reseal(ref string, raw []byte) ([]byte, error) {
	id, err := blobKeyID(raw)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", ref, err)
	}
	s.mu.RLock()
	active := s.active
	s.mu.RUnlock()
	if id == hex.EncodeToString(active.id) {
		return nil, nil
	}
	plain, err := s.open(ref, raw)
	if err != nil {
		return nil, err
	}
	return active.seal(ref, plain)
}

// activeID returns the ID of the active key.
func (s *sealer) activeID() string { return s.KeyID() }

// ResealProgress is how far a Reseal is.
type ResealProgress struct {
	Examined int   // blobs looked at
	Resealed int   // of which sealed again with the active key
	Bytes    int64 // bytes written
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
