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

// TestOpenAppend checks that openAppend, which decrypts in place into the
// caller's buffer, opens what open opens (formats 1 and 2) and refuses
// what it refuses, leaving the buffer's contents as they were.
func TestOpenAppend(t *testing.T) {
	s, other := mustSealer(t), mustSealer(t)
	data := bytes.Repeat([]byte("an image "), 1000)
	ref := s.Ref(data)
	sealed, err := s.seal(ref, data)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, s.active.aead.NonceSize())
	rand.Read(nonce)
	v1 := s.active.aead.Seal(append([]byte("HBL1"), nonce...), nonce, data, []byte(ref))
	prefix := []byte("message so far|")
	for name, raw := range map[string][]byte{"Version2": sealed, "Version1": v1} {
		t.Run(name, func(t *testing.T) {
			dst := append(make([]byte, 0, 16), prefix...)
			got, err := s.openAppend(dst, ref, bytes.NewReader(raw), int64(len(raw)), 0)
			if err != nil || !bytes.Equal(got, append(append([]byte(nil), prefix...), data...)) {
				t.Fatalf("openAppend = %d bytes, %v; want the prefix and the %d bytes of the image", len(got), err, len(data))
			}
		})
	}
	refuse := map[string]func() ([]byte, error){
		"OtherKey": func() ([]byte, error) {
			return other.openAppend(prefix, ref, bytes.NewReader(sealed), int64(len(sealed)), 0)
		},
		"OtherRef": func() ([]byte, error) {
			r := s.Ref([]byte("another image"))
			return s.openAppend(prefix, r, bytes.NewReader(sealed), int64(len(sealed)), 0)
		},
		"Tampered": func() ([]byte, error) {
			bad := bytes.Clone(sealed)
			bad[len(bad)/2] ^= 1
			return s.openAppend(prefix, ref, bytes.NewReader(bad), int64(len(bad)), 0)
		},
		"Truncated": func() ([]byte, error) {
			return s.openAppend(prefix, ref, bytes.NewReader(sealed[:len(sealed)-1]), int64(len(sealed)), 0)
		},
		"Short": func() ([]byte, error) {
			return s.openAppend(prefix, ref, bytes.NewReader(sealed[:30]), 30, 0)
		},
		"OverTheLimit": func() ([]byte, error) {
			return s.openAppend(prefix, ref, bytes.NewReader(sealed), int64(len(sealed)), 100)
		},
	}
	for name, fn := range refuse {
		t.Run(name, func(t *testing.T) {
			got, err := fn()
			if err == nil || !bytes.Equal(got, prefix) {
				t.Fatalf("openAppend = %q…, %v; want an error and the buffer as it was", got[:min(len(got), 20)], err)
			}
		})
	}
}

func FuzzOpenAppend(f *testing.F) {
	s := mustSealer(f)
	ref := s.Ref([]byte("x"))
	sealed, _ := s.seal(ref, []byte("x"))
	f.Add(sealed)
	f.Add([]byte("HBL1"))
	f.Add([]byte("HBL2\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := s.openAppend([]byte("p"), ref, bytes.NewReader(raw), int64(len(raw)), 0)
		if err == nil && !bytes.Equal(raw, sealed) {
			t.Fatalf("a forged blob opened to %q", got)
		}
		if err != nil && string(got) != "p" {
			t.Fatalf("a refused blob left %q", got)
		}
	})
}
