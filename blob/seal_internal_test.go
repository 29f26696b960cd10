package blob

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func mustSealer(tb testing.TB) *sealer {
	tb.Helper()
	key := make([]byte, KeySize)
	rand.Read(key)
	s, err := newSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestSealKeyID checks that every blob names its key, that a blob of
// another key is refused naming both keys, and that blobs of format 1 (no
// key ID) still open.
func TestSealKeyID(t *testing.T) {
	s, other := mustSealer(t), mustSealer(t)
	data := []byte("an image")
	ref := s.Ref(data)
	sealed, err := s.seal(ref, data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, append([]byte("HBL2"), s.active.id...)) {
		t.Fatalf("blob starts %x, want HBL2 and the key ID %s", sealed[:12], s.KeyID())
	}
	if got, err := s.open(ref, sealed); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("open = %q, %v", got, err)
	}
	t.Run("ErrOtherKey", func(t *testing.T) {
		_, err := other.open(ref, sealed)
		if err == nil || !strings.Contains(err.Error(), s.KeyID()) || !strings.Contains(err.Error(), other.KeyID()) {
			t.Fatalf("open with another key: %v, want an error naming both keys", err)
		}
	})
	t.Run("Version1", func(t *testing.T) {
		nonce := make([]byte, s.active.aead.NonceSize())
		rand.Read(nonce)
		v1 := s.active.aead.Seal(append([]byte("HBL1"), nonce...), nonce, data, []byte(ref))
		if got, err := s.open(ref, v1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open of a format 1 blob = %q, %v", got, err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	s := mustSealer(f)
	ref := s.Ref([]byte("x"))
	sealed, _ := s.seal(ref, []byte("x"))
	f.Add(sealed)
	f.Add([]byte("HBL1"))
	f.Add([]byte("HBL2\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, err := s.open(ref, raw); err == nil && !bytes.Equal(raw, sealed) {
			t.Fatalf("a forged blob opened to %q", got)
		}
	})
}
