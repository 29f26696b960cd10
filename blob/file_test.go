package blob_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
)

func MustOpen(tb testing.TB) (*blob.FileStore, string) {
	tb.Helper()
	dir := tb.TempDir()
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		tb.Fatal(err)
	}
	return s, dir
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s, _ := MustOpen(t)
		data := []byte("a fingerprint image, say")
		ref, err := s.Put(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("got %q, want %q", got, data)
		}
		ref2, _ := s.Put(ctx, data)
		if ref2 != ref {
			t.Fatalf("same content gave refs %s and %s", ref, ref2)
		}
	})
	t.Run("PutAll", func(t *testing.T) {
		s, _ := MustOpen(t)
		blobs := [][]byte{[]byte("right index"), []byte("left iris"), []byte("right index")}
		refs, err := s.PutAll(ctx, blobs)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != 3 || refs[0] != refs[2] || refs[0] == refs[1] {
			t.Fatalf("refs = %v: want equal content under one ref, different under two", refs)
		}
		for i, ref := range refs {
			got, err := s.Get(ctx, ref)
			if err != nil || !bytes.Equal(got, blobs[i]) {
				t.Fatalf("Get(%s) = %q, %v", ref, got, err)
			}
		}
		s.MaxSize = 5
		if _, err := s.PutAll(ctx, [][]byte{[]byte("too large")}); huella.ErrorCode(err) != huella.ETOOLARGE {
			t.Fatalf("err = %v, want ETOOLARGE", err)
		}
	})
	t.Run("NoPlaintextOnDisk", func(t *testing.T) {
		s, dir := MustOpen(t)
		secret := []byte("PLAINTEXT-MARKER-0123456789")
		if _, err := s.Put(ctx, secret); err != nil {
			t.Fatal(err)
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if d != nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, secret) {
					t.Errorf("%s holds the plaintext", p)
				}
			}
			return nil
		})
	})
	t.Run("KeyFileMode", func(t *testing.T) {
		_, dir := MustOpen(t)
		fi, err := os.Stat(filepath.Join(dir, "keys", "data.key"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Fatalf("key mode = %v, want 0600", got)
		}
		// The same key is read back on the next start.
		k1, _ := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
		k2, _ := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
		if !bytes.Equal(k1, k2) {
			t.Fatal("key changed between starts")
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		s, dir := MustOpen(t)
		ref, _ := s.Put(ctx, []byte("image"))
		p := filepath.Join(dir, "blobs", ref[:2], ref[2:4], ref)
		b, _ := os.ReadFile(p)
		b[len(b)-1] ^= 1
		os.WriteFile(p, b, 0o600)
		if _, err := s.Get(ctx, ref); err == nil {
			t.Fatal("tampered blob read without error")
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		s, dir := MustOpen(t)
		ref, _ := s.Put(ctx, []byte("image"))
		other, _ := blob.NewFileStore(filepath.Join(dir, "blobs"), bytes.Repeat([]byte{7}, 32))
		if _, err := other.Get(ctx, ref); err == nil {
			t.Fatal("read with another key")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s, _ := MustOpen(t)
		_, err := s.Get(ctx, "00000000000000000000000000000000000000000000000000000000000000aa")
		if got := huella.ErrorCode(err); got != huella.ENOTFOUND {
			t.Fatalf("code = %q, want %q", got, huella.ENOTFOUND)
		}
		if _, err := s.Get(ctx, "../../etc/passwd"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatal("path traversal not rejected")
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		s, _ := MustOpen(t)
		s.MaxSize = 10
		_, err := s.Put(ctx, make([]byte, 11))
		if got := huella.ErrorCode(err); got != huella.ETOOLARGE {
			t.Fatalf("code = %q, want %q", got, huella.ETOOLARGE)
		}
	})
}
