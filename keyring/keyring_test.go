package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/keyring"
)

// memKeys is a huella.KeyStore in memory that counts its writes.
type memKeys struct {
	mu     sync.Mutex
	keys   []*huella.WrappedKey
	writes int
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
	m.writes++
	for _, o := range m.keys {
		if k.Active && o.Purpose == k.Purpose {
			o.Active = false
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return nil
}

func (m *memKeys) RetireKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	for _, k := range m.keys {
		if k.ID == id {
			k.Wrapped, k.RetiredAt = nil, at
			return nil
		}
	}
	return huella.Errorf(huella.ENOTFOUND, "no key %s", id)
}

func (m *memKeys) RewrapKeys(_ context.Context, keys []*huella.WrappedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	for _, n := range keys {
		found := false
		for _, k := range m.keys {
			if k.ID == n.ID && k.RetiredAt.IsZero() {
				k.Wrapped, k.KEKID, found = n.Wrapped, n.KEKID, true
			}
		}
		if !found {
			return huella.Errorf(huella.ENOTFOUND, "no key %s", n.ID)
		}
	}
	return nil
}

func mustKEK(tb testing.TB, b byte) *keyring.LocalKEK {
	tb.Helper()
	k, err := keyring.NewLocalKEK(bytes.Repeat([]byte{b}, keyring.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustOpen(tb testing.TB, kek keyring.KEK, store huella.KeyStore) *keyring.Keyring {
	tb.Helper()
	r, err := keyring.Open(context.Background(), kek, store, keyring.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	store := &memKeys{}
	r := mustOpen(t, mustKEK(t, 1), store)
	plain := []byte(`{"names":[{"given":"Zebulon"}]}`)
	sealed, err := r.Seal([]byte("enc_1/biographics"), plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Zebulon")) {
		t.Fatal("the ciphertext holds the plaintext")
	}
	if id, ok := r.Sealed(sealed); !ok || id != r.ActiveKeyID() {
		t.Fatalf("Sealed = %q, %t; want %q, true", id, ok, r.ActiveKeyID())
	}
	t.Run("OK", func(t *testing.T) {
		got, err := r.Open([]byte("enc_1/biographics"), sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})
	t.Run("ErrOtherRecord", func(t *testing.T) {
		if _, err := r.Open([]byte("enc_2/biographics"), sealed); err == nil {
			t.Fatal("a ciphertext moved to another record opened")
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := r.Open([]byte("enc_1/biographics"), bad); err == nil {
			t.Fatal("a tampered ciphertext opened")
		}
	})
	t.Run("ReopenSameKEK", func(t *testing.T) {
		r2 := mustOpen(t, mustKEK(t, 1), store)
		if got, err := r2.Open([]byte("enc_1/biographics"), sealed); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open after reopen = %q, %v", got, err)
		}
		if !bytes.Equal(r.Token("name", "zeb"), r2.Token("name", "zeb")) || !bytes.Equal(r.BlobKey(), r2.BlobKey()) {
			t.Fatal("the index or blob key changed on reopen")
		}
	})
	t.Run("ErrWrongKEK", func(t *testing.T) {
		before := store.writes
		_, err := keyring.Open(context.Background(), mustKEK(t, 2), store, keyring.Options{})
		if !errors.Is(err, keyring.ErrWrongKEK) {
			t.Fatalf("err = %v, want ErrWrongKEK", err)
		}
		if store.writes != before {
			t.Fatalf("a wrong KEK wrote %d keys", store.writes-before)
		}
	})
}

func TestRotateRetire(t *testing.T) {
	ctx := context.Background()
	store := &memKeys{}
	r := mustOpen(t, mustKEK(t, 1), store)
	old := r.ActiveKeyID()
	sealed, err := r.Seal([]byte("a"), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	other := mustOpen(t, mustKEK(t, 1), store) // another process on the same store
	id, err := r.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id == old {
		t.Fatal("rotate kept the key")
	}
	if _, err := r.Open([]byte("a"), sealed); err != nil {
		t.Fatalf("the old key no longer opens: %v", err)
	}
	newer, err := r.Seal([]byte("a"), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Sealed(newer); got != id {
		t.Fatalf("sealed under %s, want the new key %s", got, id)
	}
	if _, err := other.Open([]byte("a"), newer); err != nil {
		t.Fatalf("another process cannot open the new key's ciphertext: %v", err)
	}
	if err := r.Retire(ctx, id); huella.ErrorCode(err) != huella.ECONFLICT {
		t.Fatalf("retiring the active key: %v, want ECONFLICT", err)
	}
	if err := r.Retire(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open([]byte("a"), sealed); err == nil {
		t.Fatal("a retired key still opens")
	}
	r3 := mustOpen(t, mustKEK(t, 1), store)
	if len(r3.DataKeyIDs()) != 1 || r3.ActiveKeyID() != id {
		t.Fatalf("after retiring: keys %v active %s", r3.DataKeyIDs(), r3.ActiveKeyID())
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	store := &memKeys{}
	r := mustOpen(t, mustKEK(t, 1), store)
	sealed, err := r.Seal([]byte("a"), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	token := r.Token("name", "ana")
	if err := r.Rewrap(ctx, mustKEK(t, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Open(ctx, mustKEK(t, 1), store, keyring.Options{}); !errors.Is(err, keyring.ErrWrongKEK) {
		t.Fatalf("the old KEK after rewrapping: %v, want ErrWrongKEK", err)
	}
	r2 := mustOpen(t, mustKEK(t, 2), store)
	if got, err := r2.Open([]byte("a"), sealed); err != nil || string(got) != "secret" {
		t.Fatalf("under the new KEK: %q, %v", got, err)
	}
	if !bytes.Equal(r2.Token("name", "ana"), token) {
		t.Fatal("rewrapping changed the index key")
	}
}

func TestToken(t *testing.T) {
	a := mustOpen(t, mustKEK(t, 1), &memKeys{})
	b := mustOpen(t, mustKEK(t, 1), &memKeys{}) // another store: another index key
	if bytes.Equal(a.Token("name", "ana"), a.Token("name", "ano")) ||
		bytes.Equal(a.Token("name", "ana"), a.Token("document", "ana")) ||
		bytes.Equal(a.Token("name", "ana"), b.Token("name", "ana")) {
		t.Fatal("tokens of different terms, kinds or keys are equal")
	}
	if bytes.Contains(a.Token("name", "ana"), []byte("ana")) {
		t.Fatal("the token holds the term")
	}
}

func TestKEKFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	if _, err := keyring.LoadKEKFile(path); !keyring.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
	k, err := keyring.CreateKEKFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.CreateKEKFile(path); err == nil {
		t.Fatal("CreateKEKFile overwrote a key")
	}
	got, err := keyring.LoadKEKFile(path)
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("LoadKEKFile = %v, %v", got, err)
	}
	os.Chmod(path, 0o644)
	if _, err := keyring.LoadKEKFile(path); err == nil {
		t.Fatal("a key file readable by others was accepted")
	}
	if _, err := keyring.ParseKEK("c2hvcnQ="); err == nil {
		t.Fatal("a short key was accepted")
	}
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if k, err := keyring.ParseKEK(hexKey); err != nil || k.ID() == "" {
		t.Fatalf("ParseKEK(hex) = %v", err)
	}
}

func TestInside(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, c := range []struct {
		path string
		want bool
	}{
		{filepath.Join(data, "keys", "data.key"), true},
		{filepath.Join(data, "..", "data", "k"), true},
		{filepath.Join(dir, "data.key"), false},
		{filepath.Join(dir, "data2", "k"), false},
	} {
		if got := keyring.Inside(c.path, data); got != c.want {
			t.Errorf("Inside(%s) = %t, want %t", c.path, got, c.want)
		}
	}
}

func FuzzOpen(f *testing.F) {
	r := mustOpen(f, mustKEK(f, 1), &memKeys{})
	sealed, _ := r.Seal([]byte("id"), []byte("plain"))
	f.Add(sealed)
	f.Add([]byte("HF1"))
	f.Add([]byte("HF1\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := r.Open([]byte("id"), b)
		if err == nil && !bytes.Equal(b, sealed) {
			t.Fatalf("a forged ciphertext opened to %q", plain)
		}
	})
}

// TestRotateBlob rotates the blob key: the first rotation keeps the naming
// key, another process on the store sees the new key at its next check,
// and the old key retires once the naming key is stored apart.
func TestRotateBlob(t *testing.T) {
	ctx := context.Background()
	store := &memKeys{}
	r := mustOpen(t, mustKEK(t, 1), store)
	other := mustOpen(t, mustKEK(t, 1), store)
	first := r.BlobKeys()
	old := first.ActiveID
	if len(first.Keys) != 1 || first.Naming != nil {
		t.Fatalf("a new store's blob keys: %d, naming %x", len(first.Keys), first.Naming)
	}
	if err := r.Retire(ctx, old); huella.ErrorCode(err) != huella.ECONFLICT {
		t.Fatalf("retiring the only blob key: %v, want ECONFLICT", err)
	}
	naming := func(key []byte) []byte { return append([]byte("name:"), key[:27]...) }
	id, err := r.RotateBlob(ctx, naming)
	if err != nil {
		t.Fatal(err)
	}
	if id == old || r.ActiveBlobKeyID() != id || !bytes.Equal(r.BlobKey(), r.BlobKeys().Keys[id]) {
		t.Fatalf("after rotation: active %s, was %s", r.ActiveBlobKeyID(), old)
	}
	if want := naming(first.Keys[old]); !bytes.Equal(r.BlobKeys().Naming, want) {
		t.Fatal("the naming key is not the one derived from the first blob key")
	}
	if other.ActiveBlobKeyID() != old {
		t.Fatal("the other process changed keys without asking")
	}
	cur, err := other.CurrentBlobKeys(ctx)
	if err != nil || cur.ActiveID != id || len(cur.Keys) != 2 || !bytes.Equal(cur.Naming, naming(first.Keys[old])) {
		t.Fatalf("the other process's current blob keys: %+v, %v", cur, err)
	}
	if err := r.Retire(ctx, id); huella.ErrorCode(err) != huella.ECONFLICT {
		t.Fatalf("retiring the active blob key: %v, want ECONFLICT", err)
	}
	if err := r.Retire(ctx, old); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, mustKEK(t, 1), store)
	if k := again.BlobKeys(); len(k.Keys) != 1 || k.ActiveID != id || !bytes.Equal(k.Naming, naming(first.Keys[old])) {
		t.Fatalf("reopened after retiring: %+v", k)
	}
	// A second rotation keeps the stored naming key.
	if _, err := r.RotateBlob(ctx, func([]byte) []byte { t.Fatal("naming asked again"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyBlobKeyInactive opens a store whose one blob key was stored
// inactive, as before blob key rotation: it is the active one.
func TestLegacyBlobKeyInactive(t *testing.T) {
	store := &memKeys{}
	r := mustOpen(t, mustKEK(t, 1), store)
	for _, k := range store.keys {
		if k.Purpose == huella.KeyPurposeBlob {
			k.Active = false
		}
	}
	again := mustOpen(t, mustKEK(t, 1), store)
	if again.ActiveBlobKeyID() != r.ActiveBlobKeyID() || !bytes.Equal(again.BlobKey(), r.BlobKey()) {
		t.Fatal("the legacy blob key is not the active one")
	}
}
