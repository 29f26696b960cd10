// Package kms holds key-encryption keys kept by an external key manager,
// behind keyring.KEK: wrapping and unwrapping are the manager's encrypt
// and decrypt calls, and the KEK's material never leaves it. PKCS11KEK is
// an AES key in a PKCS#11 token (a hardware security module, or SoftHSM2
// for tests); it needs cgo, and a build without cgo says so when asked for
// one.
package kms

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// PINEnv is the environment variable the PKCS#11 user PIN is read from
// when the URI gives no pin-source.
const PINEnv = "HUELLA_PKCS11_PIN"

// PKCS11Config names a key in a PKCS#11 token.
type PKCS11Config struct {
	Module   string // the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	Token    string // the token's label
	KeyLabel string // the AES key's label (CKA_LABEL)
	PIN      string // the user PIN
}

// ParsePKCS11 reads a PKCS#11 URI (RFC 7512) naming the token and key,
//
//	pkcs11:token=LABEL;object=KEY-LABEL?module-path=/path/lib.so[&pin-source=FILE]
//
// The PIN is read from pin-source (a file, "file:" optional) or else from
// $HUELLA_PKCS11_PIN; a PIN in the URI itself (pin-value) is refused, as it
// would show in process listings and shell histories.
func ParsePKCS11(uri string) (*PKCS11Config, error) {
	rest, ok := strings.CutPrefix(uri, "pkcs11:")
	if !ok {
		return nil, fmt.Errorf("kms: %q is not a pkcs11: URI", uri)
	}
	path, query, _ := strings.Cut(rest, "?")
	c := &PKCS11Config{}
	for _, attr := range strings.Split(path, ";") {
		if attr == "" {
			continue
		}
		k, v, _ := strings.Cut(attr, "=")
		v, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("kms: pkcs11 URI attribute %s: %w", k, err)
		}
		switch k {
		case "token":
			c.Token = v
		case "object":
			c.KeyLabel = v
		case "type":
			if v != "secret-key" {
				return nil, fmt.Errorf("kms: the key-encryption key is a secret key, not type=%s", v)
			}
		default:
			return nil, fmt.Errorf("kms: unknown pkcs11 URI attribute %q (token, object, type)", k)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("kms: pkcs11 URI query: %w", err)
	}
	pinSource := ""
	for k, v := range q {
		switch k {
		case "module-path":
			c.Module = v[0]
		case "pin-source":
			pinSource = strings.TrimPrefix(v[0], "file:")
		case "pin-value":
			return nil, fmt.Errorf("kms: give the PKCS#11 PIN in a file (pin-source) or $%s, not in the URI", PINEnv)
		default:
			return nil, fmt.Errorf("kms: unknown pkcs11 URI query attribute %q (module-path, pin-source)", k)
		}
	}
	switch {
	case c.Module == "":
		return nil, errors.New("kms: the pkcs11 URI needs module-path=/path/to/the/PKCS#11/library.so")
	case c.Token == "":
		return nil, errors.New("kms: the pkcs11 URI needs token=LABEL")
	case c.KeyLabel == "":
		return nil, errors.New("kms: the pkcs11 URI needs object=KEY-LABEL")
	}
	if pinSource != "" {
		b, err := os.ReadFile(pinSource)
		if err != nil {
			return nil, fmt.Errorf("kms: PKCS#11 PIN: %w", err)
		}
		if fi, err := os.Stat(pinSource); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("kms: PIN file %s is readable by others (mode %v): chmod 600 it", pinSource, fi.Mode().Perm())
		}
		c.PIN = strings.TrimRight(string(b), "\r\n")
	} else {
		c.PIN = os.Getenv(PINEnv)
	}
	if c.PIN == "" {
		return nil, fmt.Errorf("kms: no PKCS#11 PIN: set $%s or give pin-source=FILE", PINEnv)
	}
	return c, nil
}

// ErrKeyNotFound is returned by OpenPKCS11 when the token holds no key of
// the label.
var ErrKeyNotFound = errors.New("kms: the token holds no key of that label")
