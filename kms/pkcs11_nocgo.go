//go:build !cgo

package kms

import (
	"context"
	"errors"

	"github.com/huella-abis/huella/keyring"
)

// PKCS11KEK is a key-encryption key held in a PKCS#11 token; this build
// (without cgo) cannot load a PKCS#11 library.
type PKCS11KEK struct{}

var _ keyring.KEK = (*PKCS11KEK)(nil)

// errNoCgo is returned for any PKCS#11 use by a build without cgo.
var errNoCgo = errors.New("kms: this build of Huella has no PKCS#11 support (built with CGO_ENABLED=0): build it with cgo to use --kms pkcs11:")

// OpenPKCS11 fails: a PKCS#11 library is loaded through cgo.
func OpenPKCS11(*PKCS11Config, bool) (*PKCS11KEK, error) { return nil, errNoCgo }

// ID names nothing.
func (*PKCS11KEK) ID() string { return "" }

// Wrap fails.
func (*PKCS11KEK) Wrap(context.Context, []byte, []byte) ([]byte, error) { return nil, errNoCgo }

// Unwrap fails.
func (*PKCS11KEK) Unwrap(context.Context, []byte, []byte) ([]byte, error) { return nil, errNoCgo }

// Close does nothing.
func (*PKCS11KEK) Close() error { return nil }
