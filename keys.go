package huella

import (
	"context"
	"fmt"
	"time"
)

// FieldCipher encrypts personal data before it reaches a store: the
// biographics, criminal history and templates of each record, sealed with
// the record's ID (and the field's name) as associated data so that a
// ciphertext moved to another record or field fails to open. Every
// ciphertext names the data key that sealed it. Token gives the keyed
// blind-index tokens name and document search compare instead of the words.
// Implementation: keyring.Keyring.
type FieldCipher interface {
	// Seal encrypts plain under the active data key with aad.
	Seal(aad, plain []byte) ([]byte, error)
	// Open decrypts what Seal returned; a ciphertext that fails
	// authentication, or names a key that is not held, is an error.
	Open(aad, sealed []byte) ([]byte, error)
	// Sealed reports whether b is a ciphertext of Seal, and under which key.
	Sealed(b []byte) (keyID string, ok bool)
	// ActiveKeyID names the key Seal uses now.
	ActiveKeyID() string
	// Token returns the blind-index token of a search term of the kind
	// ("name", "document"): equal terms give equal tokens, and tokens
	// reveal nothing without the key.
	Token(kind, term string) []byte
	// Reload reads the keys again: another process may have rotated.
	Reload(ctx context.Context) error
}

// Audit actions of key management.
const (
	ActionKeyCreate    = "key.create"    // a key made (object key/ID)
	ActionKeyRetire    = "key.retire"    // a data key forgotten once nothing used it
	ActionKeyReencrypt = "key.reencrypt" // a batch of records moved to the active key
	ActionKeyRewrap    = "key.rewrap"    // every key wrapped by a new KEK
)

// Purposes of the keys a KeyStore holds.
const (
	KeyPurposeData  = "data"  // seals fields (and is rotated)
	KeyPurposeIndex = "index" // keys the blind-index tokens (kept: rotating it means re-indexing)
	KeyPurposeBlob  = "blob"  // the key the BlobStore seals images with (and is rotated)
	// KeyPurposeBlobName names images (an HMAC key), kept fixed when the
	// blob key is rotated so that no image is renamed; before the first
	// rotation it is derived from the blob key.
	KeyPurposeBlobName = "blob-name"
)

// WrappedKey is a key as a store keeps it: encrypted by a key-encryption key
// (KEK) that is never in the store.
type WrappedKey struct {
	ID        string    // public ID, written in every ciphertext of the key
	Purpose   string    // KeyPurposeData, KeyPurposeIndex, KeyPurposeBlob or KeyPurposeBlobName
	KEKID     string    // the ID of the KEK that wrapped it
	Wrapped   []byte    // nil once retired
	Active    bool      // the data (or blob) key new ciphertexts are sealed with
	CreatedAt time.Time //
	RetiredAt time.Time // zero while in use
}

// KeyStore keeps the wrapped keys next to the records they protect, so that
// every process sharing a store shares its keys. Its methods are not
// audited: "huella keys" audits the rotations and retirements it makes. Implementations:
// sqlite.Store, postgres.Store.
type KeyStore interface {
	// ListKeys returns every key, retired ones included, oldest first.
	ListKeys(ctx context.Context) ([]*WrappedKey, error)
	// AddKey stores a new key; when it is Active, every other key of its
	// purpose stops being active in the same transaction. ECONFLICT if the
	// ID is taken.
	AddKey(ctx context.Context, k *WrappedKey) error
	// RetireKey forgets the wrapped key and records when. ENOTFOUND;
	// ECONFLICT for the active key.
	RetireKey(ctx context.Context, id string, at time.Time) error
	// RewrapKeys replaces the wrapping (Wrapped, KEKID) of the keys, by
	// ID, in one transaction: the KEK changes. ENOTFOUND for an unknown
	// or retired key.
	RewrapKeys(ctx context.Context, keys []*WrappedKey) error
}

// Reencrypter moves the records of a store to the active data key.
// Implementations: sqlite.Store, postgres.Store.
type Reencrypter interface {
	// Reencrypt seals every field not sealed with the active data key
	// (or not sealed at all: a store from before encryption, whose rows it
	// also re-indexes) with it, in batches of batch rows, each its own
	// transaction, calling progress after each. It is online (writers go
	// on) and resumable: run again after a crash, it carries on.
	Reencrypt(ctx context.Context, batch int, progress func(ReencryptProgress)) error
	// KeyUsage counts the sealed fields by data key ID, "" for fields not
	// sealed at all.
	KeyUsage(ctx context.Context) (map[string]int, error)
}

// ReencryptProgress is how far Reencrypt is.
type ReencryptProgress struct {
	Table     string // the table being moved
	Pending   int    // its rows not under the active key when the table began
	Rewritten int    // rows rewritten so far, every table
	Bytes     int64  // ciphertext bytes written so far
}

// Plaintext is the FieldCipher of a store given no keys: fields are stored
// as they are, and the terms themselves are the tokens. Only tests of
// other packages run so; the application always hands a store its keyring.
var Plaintext FieldCipher = plaintext{}

type plaintext struct{}

func (plaintext) Seal(_, plain []byte) ([]byte, error)  { return plain, nil }
func (plaintext) Open(_, sealed []byte) ([]byte, error) { return sealed, nil }
func (plaintext) Sealed([]byte) (string, bool)          { return "", false }
func (plaintext) ActiveKeyID() string                   { return "" }
func (plaintext) Token(_, term string) []byte           { return []byte(term) }
func (plaintext) Reload(context.Context) error          { return nil }

// FieldAAD is the associated data of a sealed field: the record's kind and
// ID and the field's name, so that a ciphertext moved elsewhere fails to
// open.
func FieldAAD(kind, id, field string) []byte { return []byte(kind + "/" + id + "/" + field) }

// OpenField decrypts a stored field. A field that is not sealed was written
// before encryption at rest and is returned as it is, until re-encryption
// seals it.
func OpenField(c FieldCipher, aad, stored []byte) ([]byte, error) {
	if stored == nil {
		return nil, nil
	}
	if _, ok := c.Sealed(stored); !ok {
		return stored, nil
	}
	return c.Open(aad, stored)
}

// NameTokens returns the blind-index tokens of a name's word: one for
// every prefix, so that a query word finds the names with a word it
// begins.
func NameTokens(c FieldCipher, word string) [][]byte {
	var tokens [][]byte
	for i := range word {
		if i > 0 {
			tokens = append(tokens, c.Token("name", word[:i]))
		}
	}
	return append(tokens, c.Token("name", word))
}

// SealedField names a sealed field by the kind of record that holds it and
// the field's name, as FieldAAD binds them.
type SealedField struct{ Kind, Field string }

// Resealed is a record's fields sealed again under the active data key.
type Resealed struct {
	Fields   [][]byte // the new ciphertexts; nil where the stored field was nil
	First    []byte   // the first field's plain text (an encounter's biographics, to re-index)
	WasPlain bool     // a field was stored in clear: written before encryption at rest
	Bytes    int64    // ciphertext bytes written
}

// Reseal opens the stored fields of record id and seals them again with
// c's active key: the work of one row of a re-encryption, the same in every
// store.
func Reseal(c FieldCipher, id string, fields []SealedField, stored [][]byte) (*Resealed, error) {
	r := &Resealed{Fields: make([][]byte, len(fields))}
	for i, f := range fields {
		v := stored[i]
		if v == nil {
			continue
		}
		ad := FieldAAD(f.Kind, id, f.Field)
		if _, ok := c.Sealed(v); !ok {
			r.WasPlain = true
		}
		plain, err := OpenField(c, ad, v)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", f.Kind, id, f.Field, err)
		}
		if i == 0 {
			r.First = plain
		}
		if r.Fields[i], err = c.Seal(ad, plain); err != nil {
			return nil, err
		}
		r.Bytes += int64(len(r.Fields[i]))
	}
	return r, nil
}

// ReencryptTables runs a re-encryption table by table, as every store's
// Reencrypt does: count gives a table's rows still to move, batch moves the
// next rows after the key given (in one transaction) and returns how many,
// the last key and the bytes written; it ends a table when it moves none.
// progress, when set, hears after each count and each batch.
func ReencryptTables[T any](tables []T, name func(T) string, count func(T) (int, error),
	batch func(t T, after string) (n int, last string, written int64, err error), progress func(ReencryptProgress)) error {
	var p ReencryptProgress
	report := func() {
		if progress != nil {
			progress(p)
		}
	}
	for _, t := range tables {
		p.Table = name(t)
		var err error
		if p.Pending, err = count(t); err != nil {
			return err
		}
		report()
		for after := ""; ; {
			n, last, written, err := batch(t, after)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			after = last
			p.Rewritten += n
			p.Bytes += written
			report()
		}
	}
	return nil
}
