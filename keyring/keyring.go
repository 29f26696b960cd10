package keyring

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
	"sync"
	"time"

	"github.com/huella-abis/huella"
)

// fieldMagic starts every sealed field: format version 1 is the magic, the
// 8-byte ID of the data key, a 12-byte nonce, then the AES-256-GCM
// ciphertext and tag.
var fieldMagic = []byte("HF1")

// idSize is the size of a key ID in a ciphertext; its text form is hex.
const idSize = 8

// tokenSize is the size of a blind-index token.
const tokenSize = 16

// Keyring holds the unwrapped keys of a store and implements
// huella.FieldCipher. It is safe for concurrent use.
type Keyring struct {
	kek   KEK
	store huella.KeyStore
	// Now stamps new and retired keys; Open sets it to time.Now.
	Now func() time.Time

	mu         sync.RWMutex
	data       map[string]cipher.AEAD // by key ID, text form
	active     string
	index      []byte
	blobs      map[string][]byte // blob keys held, by key ID
	activeBlob string
	blobName   []byte // nil until the blob key is first rotated
}

var _ huella.FieldCipher = (*Keyring)(nil)

// Options are the choices Open makes on a store with no keys yet.
type Options struct {
	// LegacyBlobKey, when set, becomes the blob key instead of a new one:
	// the images of a data directory from before the key hierarchy were
	// sealed with it.
	LegacyBlobKey []byte
}

// Open unwraps the store's keys with the KEK, creating the missing ones (a
// new store's) first. A KEK other than the one that wrapped the keys is
// ErrWrongKEK, and nothing is written.
func Open(ctx context.Context, kek KEK, store huella.KeyStore, opt Options) (*Keyring, error) {
	r := &Keyring{kek: kek, store: store, Now: time.Now}
	keys, err := store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: list keys: %w", err)
	}
	// Check every key before writing anything.
	if err := r.load(ctx, keys); err != nil {
		return nil, err
	}
	if r.index == nil {
		if err := r.add(ctx, huella.KeyPurposeIndex, nil); err != nil {
			return nil, err
		}
	}
	if len(r.blobs) == 0 {
		if err := r.add(ctx, huella.KeyPurposeBlob, opt.LegacyBlobKey); err != nil {
			return nil, err
		}
	}
	if r.active == "" {
		if err := r.add(ctx, huella.KeyPurposeData, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// wrapAAD binds a wrapped key to its ID and purpose.
func wrapAAD(id, purpose string) []byte {
	return []byte("huella key wrap v1\x00" + purpose + "\x00" + id)
}

// load unwraps the keys that are not retired.
func (r *Keyring) load(ctx context.Context, keys []*huella.WrappedKey) error {
	data := make(map[string]cipher.AEAD)
	blobs := make(map[string][]byte)
	var active, activeBlob, newestBlob string
	var index, blobName []byte
	for _, k := range keys {
		if !k.RetiredAt.IsZero() {
			continue
		}
		if k.KEKID != r.kek.ID() {
			return fmt.Errorf("%w: key %s was wrapped by %s, and the key given is %s (wrong --key-file or $HUELLA_KEK, or --kms?)", ErrWrongKEK, k.ID, k.KEKID, r.kek.ID())
		}
		raw, err := r.kek.Unwrap(ctx, k.Wrapped, wrapAAD(k.ID, k.Purpose))
		if err != nil {
			return fmt.Errorf("keyring: unwrap key %s: %w", k.ID, err)
		}
		if len(raw) != KeySize {
			return fmt.Errorf("keyring: key %s is %d bytes", k.ID, len(raw))
		}
		switch k.Purpose {
		case huella.KeyPurposeData:
			aead, err := newAEAD(raw)
			if err != nil {
				return err
			}
			data[k.ID] = aead
			if k.Active {
				active = k.ID
			}
		case huella.KeyPurposeIndex:
			index = raw
		case huella.KeyPurposeBlob:
			blobs[k.ID], newestBlob = raw, k.ID
			if k.Active {
				activeBlob = k.ID
			}
		case huella.KeyPurposeBlobName:
			blobName = raw
		default:
			return fmt.Errorf("keyring: key %s has an unknown purpose %q", k.ID, k.Purpose)
		}
	}
	if activeBlob == "" {
		// A store from before blob key rotation: its one blob key was
		// stored inactive.
		activeBlob = newestBlob
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data, r.active = data, active
	if index != nil {
		r.index = index
	}
	if len(blobs) > 0 {
		r.blobs, r.activeBlob = blobs, activeBlob
	}
	if blobName != nil {
		r.blobName = blobName
	}
	return nil
}

// add makes (or, given raw, adopts) a key of the purpose, wraps it and
// stores it; a data key becomes the active one.
func (r *Keyring) add(ctx context.Context, purpose string, raw []byte) error {
	if raw == nil {
		raw = make([]byte, KeySize)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
	}
	idb := make([]byte, idSize)
	if _, err := rand.Read(idb); err != nil {
		return err
	}
	id := hex.EncodeToString(idb)
	wrapped, err := r.kek.Wrap(ctx, raw, wrapAAD(id, purpose))
	if err != nil {
		return fmt.Errorf("keyring: wrap key: %w", err)
	}
	k := &huella.WrappedKey{ID: id, Purpose: purpose, KEKID: r.kek.ID(), Wrapped: wrapped,
		Active: purpose == huella.KeyPurposeData || purpose == huella.KeyPurposeBlob, CreatedAt: r.Now().UTC()}
	if err := r.store.AddKey(ctx, k); err != nil {
		return fmt.Errorf("keyring: store key: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch purpose {
	case huella.KeyPurposeData:
		aead, err := newAEAD(raw)
		if err != nil {
			return err
		}
		r.data[id], r.active = aead, id
	case huella.KeyPurposeIndex:
		r.index = raw
	case huella.KeyPurposeBlob:
		if r.blobs == nil {
			r.blobs = make(map[string][]byte)
		}
		r.blobs[id], r.activeBlob = raw, id
	case huella.KeyPurposeBlobName:
		r.blobName = raw
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Rotate makes a new data key the active one and returns its ID. Records
// sealed with the old keys still open; re-encryption moves them.
func (r *Keyring) Rotate(ctx context.Context) (string, error) {
	if err := r.add(ctx, huella.KeyPurposeData, nil); err != nil {
		return "", err
	}
	return r.ActiveKeyID(), nil
}

// Reload reads the store's keys again: another process may have rotated.
func (r *Keyring) Reload(ctx context.Context) error {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keyring: list keys: %w", err)
	}
	return r.load(ctx, keys)
}

// RotateBlob makes a new blob key the active one and returns its ID.
// Images sealed with the old keys still open; Reseal moves them. The first
// rotation first stores the naming key, naming(the blob key until then),
// so that images keep their names once that key is retired.
func (r *Keyring) RotateBlob(ctx context.Context, naming func(blobKey []byte) []byte) (string, error) {
	r.mu.RLock()
	hasName, current := r.blobName != nil, r.blobs[r.activeBlob]
	r.mu.RUnlock()
	if !hasName {
		if current == nil {
			return "", errors.New("keyring: no blob key")
		}
		if err := r.add(ctx, huella.KeyPurposeBlobName, naming(current)); err != nil {
			return "", err
		}
	}
	if err := r.add(ctx, huella.KeyPurposeBlob, nil); err != nil {
		return "", err
	}
	return r.ActiveBlobKeyID(), nil
}

// Retire forgets the data or blob key, here and in the store. The caller
// makes sure that nothing is sealed with it any more.
func (r *Keyring) Retire(ctx context.Context, id string) error {
	if id == r.ActiveKeyID() || id == r.ActiveBlobKeyID() {
		return huella.Errorf(huella.ECONFLICT, "key %s is the active key", id)
	}
	r.mu.RLock()
	_, isBlob := r.blobs[id]
	needed := isBlob && r.blobName == nil
	r.mu.RUnlock()
	if needed {
		return huella.Errorf(huella.ECONFLICT, "key %s names the images: rotate the blob key first", id)
	}
	if err := r.store.RetireKey(ctx, id, r.Now().UTC()); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.data, id)
	delete(r.blobs, id)
	r.mu.Unlock()
	return nil
}

// Rewrap wraps every key in use with the new KEK instead, in one
// transaction of the store, and unwraps with it from then on. The old KEK
// can be destroyed once every process runs with the new one.
func (r *Keyring) Rewrap(ctx context.Context, kek KEK) error {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keyring: list keys: %w", err)
	}
	var out []*huella.WrappedKey
	for _, k := range keys {
		if !k.RetiredAt.IsZero() {
			continue
		}
		if k.KEKID != r.kek.ID() {
			return fmt.Errorf("%w: key %s was wrapped by %s", ErrWrongKEK, k.ID, k.KEKID)
		}
		raw, err := r.kek.Unwrap(ctx, k.Wrapped, wrapAAD(k.ID, k.Purpose))
		if err != nil {
			return fmt.Errorf("keyring: unwrap key %s: %w", k.ID, err)
		}
		wrapped, err := kek.Wrap(ctx, raw, wrapAAD(k.ID, k.Purpose))
		if err != nil {
			return fmt.Errorf("keyring: wrap key %s: %w", k.ID, err)
		}
		c := *k
		c.Wrapped, c.KEKID = wrapped, kek.ID()
		out = append(out, &c)
	}
	if err := r.store.RewrapKeys(ctx, out); err != nil {
		return fmt.Errorf("keyring: rewrap: %w", err)
	}
	r.mu.Lock()
	r.kek = kek
	r.mu.Unlock()
	return nil
}

// DataKeyIDs returns the IDs of the data keys held (not retired).
func (r *Keyring) DataKeyIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.data))
	for id := range r.data {
		ids = append(ids, id)
	}
	return ids
}

// KEKID names the KEK the keyring unwraps with.
func (r *Keyring) KEKID() string { return r.kek.ID() }

// BlobKey returns the active blob key: the key the BlobStore seals images
// with.
func (r *Keyring) BlobKey() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]byte(nil), r.blobs[r.activeBlob]...)
}

// BlobKeys are the keys of the images.
type BlobKeys struct {
	ActiveID string            // the ID of the key new images are sealed with
	Keys     map[string][]byte // every blob key held, by ID, the active one included
	Naming   []byte            // the naming key; nil until the first rotation (derived from the blob key)
}

// BlobKeys returns the blob keys held.
func (r *Keyring) BlobKeys() *BlobKeys {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := &BlobKeys{ActiveID: r.activeBlob, Keys: make(map[string][]byte, len(r.blobs)), Naming: r.blobName}
	for id, raw := range r.blobs {
		k.Keys[id] = raw
	}
	return k
}

// CurrentBlobKeys returns the blob keys after checking in the store which
// is active, reloading when another process rotated: a BlobStore asks
// before every write, so that it never seals with a key a rotation left.
func (r *Keyring) CurrentBlobKeys(ctx context.Context) (*BlobKeys, error) {
	keys, err := r.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: list keys: %w", err)
	}
	active, newest := "", ""
	for _, k := range keys {
		if k.Purpose == huella.KeyPurposeBlob && k.RetiredAt.IsZero() {
			newest = k.ID
			if k.Active {
				active = k.ID
			}
		}
	}
	if active == "" {
		active = newest
	}
	if active != r.ActiveBlobKeyID() {
		if err := r.load(ctx, keys); err != nil {
			return nil, err
		}
	}
	return r.BlobKeys(), nil
}

// ActiveBlobKeyID names the blob key new images are sealed with.
func (r *Keyring) ActiveBlobKeyID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.activeBlob
}

// ActiveKeyID names the data key Seal uses.
func (r *Keyring) ActiveKeyID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active
}

// Seal encrypts plain under the active data key, with aad.
func (r *Keyring) Seal(aad, plain []byte) ([]byte, error) {
	r.mu.RLock()
	id, aead := r.active, r.data[r.active]
	r.mu.RUnlock()
	if aead == nil {
		return nil, errors.New("keyring: no active data key")
	}
	idb, _ := hex.DecodeString(id)
	out := make([]byte, 0, len(fieldMagic)+idSize+aead.NonceSize()+len(plain)+aead.Overhead())
	out = append(out, fieldMagic...)
	out = append(out, idb...)
	nonce := out[len(out) : len(out)+aead.NonceSize()]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = out[:len(out)+aead.NonceSize()]
	return aead.Seal(out, nonce, plain, aad), nil
}

// Sealed reports whether b is a ciphertext of Seal, and under which key.
func (r *Keyring) Sealed(b []byte) (string, bool) { return SealedKeyID(b) }

// SealedKeyID reports whether b starts as a sealed field does, and the ID
// of the data key it names.
func SealedKeyID(b []byte) (string, bool) {
	if len(b) < len(fieldMagic)+idSize || !bytes.Equal(b[:len(fieldMagic)], fieldMagic) {
		return "", false
	}
	return hex.EncodeToString(b[len(fieldMagic) : len(fieldMagic)+idSize]), true
}

// Open decrypts a sealed field. A key not held is looked for once more in
// the store (another process may have rotated) before it is an error.
func (r *Keyring) Open(aad, sealed []byte) ([]byte, error) {
	id, ok := SealedKeyID(sealed)
	if !ok {
		return nil, errors.New("keyring: not a sealed field")
	}
	r.mu.RLock()
	aead := r.data[id]
	r.mu.RUnlock()
	if aead == nil {
		if err := r.Reload(context.Background()); err != nil {
			return nil, err
		}
		r.mu.RLock()
		aead = r.data[id]
		r.mu.RUnlock()
		if aead == nil {
			return nil, fmt.Errorf("keyring: data key %s is not held (retired, or another store's)", id)
		}
	}
	body := sealed[len(fieldMagic)+idSize:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("keyring: sealed field too short")
	}
	plain, err := aead.Open(nil, body[:aead.NonceSize()], body[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: sealed field fails authentication (tampered, moved, or another key): %w", err)
	}
	return plain, nil
}

// Token returns the blind-index token of a search term: a truncated
// HMAC-SHA256 under the index key.
func (r *Keyring) Token(kind, term string) []byte {
	r.mu.RLock()
	m := hmac.New(sha256.New, r.index)
	r.mu.RUnlock()
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(term))
	return m.Sum(nil)[:tokenSize]
}
