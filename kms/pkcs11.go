//go:build cgo

package kms

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ThalesGroup/crypto11"

	"github.com/huella-abis/huella/keyring"
)

// gcmNonceSize is the nonce of the token's AES-GCM.
const gcmNonceSize = 12

// PKCS11KEK is a key-encryption key held in a PKCS#11 token: an AES-256
// key, sensitive and not extractable, that wraps and unwraps the data keys
// with the token's AES-GCM (CKM_AES_GCM). Close it when done.
type PKCS11KEK struct {
	ctx  *crypto11.Context
	aead cipher.AEAD
	id   string
}

var _ keyring.KEK = (*PKCS11KEK)(nil)

// OpenPKCS11 logs in to the token and finds the key. A missing key is
// ErrKeyNotFound, unless create is set: then it is generated in the token.
func OpenPKCS11(c *PKCS11Config, create bool) (*PKCS11KEK, error) {
	ctx, err := crypto11.Configure(&crypto11.Config{Path: c.Module, TokenLabel: c.Token, Pin: c.PIN, GCMIVLength: gcmNonceSize})
	if err != nil {
		return nil, fmt.Errorf("kms: PKCS#11 token %q through %s: %w", c.Token, c.Module, err)
	}
	keys, err := ctx.FindKeys(nil, []byte(c.KeyLabel))
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("kms: find key %q: %w", c.KeyLabel, err)
	}
	var key *crypto11.SecretKey
	switch {
	case len(keys) > 1:
		ctx.Close()
		return nil, fmt.Errorf("kms: the token holds %d keys labelled %q: give a unique label", len(keys), c.KeyLabel)
	case len(keys) == 1:
		key = keys[0]
	case !create:
		ctx.Close()
		return nil, fmt.Errorf("%w: token %q, key %q", ErrKeyNotFound, c.Token, c.KeyLabel)
	default:
		id := make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			ctx.Close()
			return nil, err
		}
		if key, err = ctx.GenerateSecretKeyWithLabel(id, []byte(c.KeyLabel), 256, crypto11.CipherAES); err != nil {
			ctx.Close()
			return nil, fmt.Errorf("kms: generate key %q: %w", c.KeyLabel, err)
		}
	}
	attr, err := ctx.GetAttribute(key, crypto11.CkaId)
	if err != nil || attr == nil || len(attr.Value) == 0 {
		ctx.Close()
		return nil, fmt.Errorf("kms: key %q has no CKA_ID (%v): Huella names a KEK by it", c.KeyLabel, err)
	}
	aead, err := key.NewGCM()
	if err != nil {
		ctx.Close()
		return nil, fmt.Errorf("kms: key %q: %w", c.KeyLabel, err)
	}
	idText := hex.EncodeToString(attr.Value)
	if len(idText) > 16 {
		idText = idText[:16]
	}
	return &PKCS11KEK{ctx: ctx, aead: aead, id: "pkcs11-" + idText}, nil
}

// ID names the KEK by the key's CKA_ID in the token.
func (k *PKCS11KEK) ID() string { return k.id }

// Wrap encrypts key in the token, with a fresh nonce.
func (k *PKCS11KEK) Wrap(_ context.Context, key, aad []byte) (out []byte, err error) {
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	defer func() {
		// crypto11 panics when the token fails an encryption.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("kms: PKCS#11 wrap: %v", r)
		}
	}()
	return k.aead.Seal(nonce, nonce, key, aad), nil
}

// Unwrap decrypts a wrapped key in the token; one this key did not wrap
// is keyring.ErrWrongKEK.
func (k *PKCS11KEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < gcmNonceSize+k.aead.Overhead() {
		return nil, keyring.ErrWrongKEK
	}
	key, err := k.aead.Open(nil, wrapped[:gcmNonceSize], wrapped[gcmNonceSize:], aad)
	if err != nil {
		if strings.Contains(err.Error(), "CKR_ENCRYPTED_DATA_INVALID") || strings.Contains(err.Error(), "CKR_ENCRYPTED_DATA_LEN_RANGE") {
			return nil, keyring.ErrWrongKEK
		}
		return nil, errors.Join(keyring.ErrWrongKEK, fmt.Errorf("kms: PKCS#11 unwrap: %w", err))
	}
	return key, nil
}

// Close logs out of the token.
func (k *PKCS11KEK) Close() error { return k.ctx.Close() }
