package kms_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/softhsmtest"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/kms"
)

// MustToken returns the URI of a fresh SoftHSM2 token (see
// softhsmtest.Token) and sets its PIN in $HUELLA_PKCS11_PIN.
func MustToken(tb testing.TB) string {
	tb.Helper()
	uri := softhsmtest.Token(tb)
	tb.Setenv(kms.PINEnv, softhsmtest.PIN)
	return uri
}

func mustOpen(tb testing.TB, label string, create bool) *kms.PKCS11KEK {
	tb.Helper()
	c, err := kms.ParsePKCS11(strings.Replace(MustToken(tb), "%s", label, 1))
	if err != nil {
		tb.Fatal(err)
	}
	k, err := kms.OpenPKCS11(c, create)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

// TestPKCS11KEK wraps and unwraps with a key that never leaves a real
// SoftHSM2 token.
func TestPKCS11KEK(t *testing.T) {
	ctx := context.Background()
	uri := MustToken(t)
	t.Run("ErrKeyNotFound", func(t *testing.T) {
		c, err := kms.ParsePKCS11(strings.Replace(uri, "%s", "no-such-key", 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kms.OpenPKCS11(c, false); !errors.Is(err, kms.ErrKeyNotFound) {
			t.Fatalf("err = %v, want ErrKeyNotFound", err)
		}
	})
	kek := mustOpen(t, "kek-a", true)
	key := bytes.Repeat([]byte{7}, keyring.KeySize)
	wrapped, err := kek.Wrap(ctx, key, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, key) {
		t.Fatal("the wrapped key holds the key")
	}
	again := mustOpen(t, "kek-a", false) // another session finds the same key
	if again.ID() != kek.ID() || !strings.HasPrefix(kek.ID(), "pkcs11-") {
		t.Fatalf("IDs %s and %s", kek.ID(), again.ID())
	}
	if got, err := again.Unwrap(ctx, wrapped, []byte("aad")); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap = %x, %v", got, err)
	}
	t.Run("ErrWrongAAD", func(t *testing.T) {
		if _, err := kek.Unwrap(ctx, wrapped, []byte("other")); !errors.Is(err, keyring.ErrWrongKEK) {
			t.Fatalf("err = %v, want ErrWrongKEK", err)
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		other := mustOpen(t, "kek-b", true)
		if other.ID() == kek.ID() {
			t.Fatal("two keys share an ID")
		}
		if _, err := other.Unwrap(ctx, wrapped, []byte("aad")); !errors.Is(err, keyring.ErrWrongKEK) {
			t.Fatalf("err = %v, want ErrWrongKEK", err)
		}
	})
	t.Run("Keyring", func(t *testing.T) {
		store := &memKeys{}
		r, err := keyring.Open(ctx, kek, store, keyring.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := r.Seal([]byte("id"), []byte("a name"))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := keyring.Open(ctx, again, store, keyring.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r2.Open([]byte("id"), sealed); err != nil || string(got) != "a name" {
			t.Fatalf("open through the token = %q, %v", got, err)
		}
		if _, err := keyring.Open(ctx, mustOpen(t, "kek-b", false), store, keyring.Options{}); !errors.Is(err, keyring.ErrWrongKEK) {
			t.Fatalf("another token key: %v, want ErrWrongKEK", err)
		}
	})
}

func TestParsePKCS11(t *testing.T) {
	t.Setenv(kms.PINEnv, "1111")
	c, err := kms.ParsePKCS11("pkcs11:token=HSM%20one;object=huella-kek?module-path=/usr/lib/softhsm/libsofthsm2.so")
	if err != nil || c.Token != "HSM one" || c.KeyLabel != "huella-kek" || c.Module != "/usr/lib/softhsm/libsofthsm2.so" || c.PIN != "1111" {
		t.Fatalf("parse = %+v, %v", c, err)
	}
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte("2222\n"), 0o600)
	if c, err := kms.ParsePKCS11("pkcs11:token=t;object=k?module-path=/m.so&pin-source=file:" + pinFile); err != nil || c.PIN != "2222" {
		t.Fatalf("pin-source: %+v, %v", c, err)
	}
	for _, bad := range []string{
		"file:/x", "pkcs11:object=k?module-path=/m.so", "pkcs11:token=t?module-path=/m.so", "pkcs11:token=t;object=k",
		"pkcs11:token=t;object=k?module-path=/m.so&pin-value=1234", "pkcs11:token=t;object=k;serial=1?module-path=/m.so",
	} {
		if _, err := kms.ParsePKCS11(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	t.Setenv(kms.PINEnv, "")
	if _, err := kms.ParsePKCS11("pkcs11:token=t;object=k?module-path=/m.so"); err == nil || !strings.Contains(err.Error(), kms.PINEnv) {
		t.Errorf("no PIN: %v", err)
	}
}

// memKeys is a huella.KeyStore in memory.
type memKeys struct {
	mu   sync.Mutex
	keys []*huella.WrappedKey
}

func (m *memKeys) ListKeys(context.Context) ([]*huella.WrappedKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*huella.WrappedKey, len(m.keys))
	for i, k := range m.keys {
		c := *k
		out[i] = &c
	}
	return out, nil
}

func (m *memKeys) AddKey(_ context.Context, k *huella.WrappedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if k.Active && o.Purpose == k.Purpose {
			o.Active = false
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return nil
}

func (m *memKeys) RetireKey(context.Context, string, time.Time) error { return nil }

func (m *memKeys) RewrapKeys(context.Context, []*huella.WrappedKey) error { return nil }

// BenchmarkPKCS11Unwrap unwraps a data key in the SoftHSM2 token: what
// opening a store costs per key (four or five keys) with --kms.
func BenchmarkPKCS11Unwrap(b *testing.B) {
	ctx := context.Background()
	kek := mustOpen(b, "kek-bench", true)
	wrapped, err := kek.Wrap(ctx, bytes.Repeat([]byte{1}, keyring.KeySize), []byte("aad"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := kek.Unwrap(ctx, wrapped, []byte("aad")); err != nil {
			b.Fatal(err)
		}
	}
}
