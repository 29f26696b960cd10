package forward

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HTTP headers of a delivery.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderKeyID          = "Huella-Key-Id"    // the kid of the key that signed the body, in our JWKS
	HeaderSignature      = "Huella-Signature" // base64url (no padding) Ed25519 signature of the exact body bytes
	HeaderDelivery       = "Huella-Delivery"  // the delivery ID
	// HeaderAuditCheckpoint carries our newest signed audit checkpoint (a
	// signed note, base64): a partner that keeps its receipts keeps a
	// witness of our audit chain that no writer of our database can reach.
	HeaderAuditCheckpoint = "Huella-Audit-Checkpoint"
)

// SigningKey is one of our Ed25519 keys.
type SigningKey struct {
	ID      string // kid: "huella-", the creation time and 6 random hex digits, so that IDs sort by age
	Private ed25519.PrivateKey
}

// Public returns the key's public half.
func (k *SigningKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// KeyRing holds our signing keys: the newest signs, older ones stay
// published in the JWKS so that partners can still verify what they
// signed. Keys live in a directory as "<kid>.key" files holding the hex
// seed, readable only by us.
type KeyRing struct {
	keys []*SigningKey // oldest first
}

// NewKeyRing returns a key ring of the given keys, the last one current.
func NewKeyRing(keys ...*SigningKey) *KeyRing { return &KeyRing{keys: keys} }

// GenerateKey returns a new signing key named after now.
func GenerateKey(now time.Time) (*SigningKey, error) {
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("forward: generate key: %w", err)
	}
	var r [3]byte
	rand.Read(r[:])
	// Fixed-width nanoseconds, so that IDs sort by age even within a second.
	return &SigningKey{ID: "huella-" + now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:]), Private: private}, nil
}

// LoadOrCreateKeyRing reads every key in dir, creating the directory and a
// first key when there is none.
func LoadOrCreateKeyRing(dir string) (*KeyRing, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("forward: key directory: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.key"))
	if err != nil {
		return nil, fmt.Errorf("forward: key directory: %w", err)
	}
	slices.Sort(names)
	ring := &KeyRing{}
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("forward: read key: %w", err)
		}
		seed, err := hex.DecodeString(strings.TrimSpace(string(text)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("forward: key %s: not a hex Ed25519 seed", filepath.Base(name))
		}
		ring.keys = append(ring.keys, &SigningKey{ID: strings.TrimSuffix(filepath.Base(name), ".key"), Private: ed25519.NewKeyFromSeed(seed)})
	}
	if len(ring.keys) == 0 {
		if _, err := ring.Rotate(dir, time.Now()); err != nil {
			return nil, err
		}
	}
	return ring, nil
}

// Rotate makes a new key, writes it to dir and makes it current.
func (r *KeyRing) Rotate(dir string, now time.Time) (*SigningKey, error) {
	k, err := GenerateKey(now)
	if err != nil {
		return nil, err
	}
	data := []byte(hex.EncodeToString(k.Private.Seed()) + "\n")
	tmp := filepath.Join(dir, k.ID+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return nil, fmt.Errorf("forward: write key: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, k.ID+".key")); err != nil {
		return nil, fmt.Errorf("forward: write key: %w", err)
	}
	r.keys = append(r.keys, k)
	return k, nil
}

// Current returns the key that signs, or nil for an empty ring.
func (r *KeyRing) Current() *SigningKey {
	if len(r.keys) == 0 {
		return nil
	}
	return r.keys[len(r.keys)-1]
}

// Key returns the key with the kid, or the current key for "".
func (r *KeyRing) Key(kid string) (*SigningKey, error) {
	if kid == "" {
		if k := r.Current(); k != nil {
			return k, nil
		}
	}
	for _, k := range r.keys {
		if k.ID == kid {
			return k, nil
		}
	}
	return nil, fmt.Errorf("forward: no signing key %q", kid)
}

// Sign returns the detached signature of body under the key with the kid
// ("" for the current key), base64url-encoded for HeaderSignature, and the
// kid used.
func (r *KeyRing) Sign(kid string, body []byte) (signature, usedKid string, err error) {
	k, err := r.Key(kid)
	if err != nil {
		return "", "", err
	}
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.Private, body)), k.ID, nil
}

// JWK is one public key in the JSON Web Key format (RFC 8037 for Ed25519).
type JWK struct {
	Kty string `json:"kty"` // "OKP"
	Crv string `json:"crv"` // "Ed25519"
	Kid string `json:"kid"`
	X   string `json:"x"` // base64url public key
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS is a set of public keys, as served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the public half of every key, newest first.
func (r *KeyRing) JWKS() *JWKS {
	set := &JWKS{Keys: []JWK{}}
	for i := len(r.keys) - 1; i >= 0; i-- {
		k := r.keys[i]
		set.Keys = append(set.Keys, JWK{Kty: "OKP", Crv: "Ed25519", Kid: k.ID,
			X: base64.RawURLEncoding.EncodeToString(k.Public()), Use: "sig", Alg: "EdDSA"})
	}
	return set
}

// Errors of Verify.
var (
	ErrUnknownKey   = errors.New("forward: unknown key id")
	ErrBadSignature = errors.New("forward: signature does not verify")
)

// Verify checks a delivery's detached signature against the key set: the
// kid must name an Ed25519 key of the set and the signature must verify
// over the exact body bytes.
func (s *JWKS) Verify(kid, signature string, body []byte) error {
	for _, k := range s.Keys {
		if k.Kid != kid {
			continue
		}
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			return ErrUnknownKey
		}
		public, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(public) != ed25519.PublicKeySize {
			return ErrUnknownKey
		}
		sig, err := base64.RawURLEncoding.DecodeString(signature)
		if err != nil || !ed25519.Verify(public, body, sig) {
			return ErrBadSignature
		}
		return nil
	}
	return ErrUnknownKey
}

// Thumbprint returns a short fingerprint of the key set, for logs.
func (s *JWKS) Thumbprint() string {
	var b bytes.Buffer
	for _, k := range s.Keys {
		b.WriteString(k.Kid + ":" + k.X + ";")
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:6])
}
