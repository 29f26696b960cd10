package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// age sets the blob's file time to d ago, as if it were written then.
func age(tb testing.TB, dir, ref string, d time.Duration) {
	tb.Helper()
	t := time.Now().Add(-d)
	if err := os.Chtimes(filepath.Join(dir, "blobs", ref[:2], ref[2:4], ref), t, t); err != nil {
		tb.Fatal(err)
	}
}

// refsOf streams the references, as a store's ForEachBlobRef does.
func refsOf(refs ...string) func(context.Context, func(string) error) error {
	return func(ctx context.Context, fn func(string) error) error {
		for _, r := range refs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	s, dir := MustOpen(t)
	put := func(data string) string {
		t.Helper()
		ref, err := s.Put(ctx, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	exists := func(ref string) bool {
		_, err := s.Get(ctx, ref)
		if err != nil && huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatal(err)
		}
		return err == nil
	}
	held := put("an image a record names")
	orphan := put("an image whose record was purged")
	fresh := put("an image of an enrollment in flight")
	reput := put("an old orphan stored again just now")
	for _, ref := range []string{held, orphan, reput} {
		age(t, dir, ref, 48*time.Hour)
	}
	put("an old orphan stored again just now") // renews its time
	oldTmp := filepath.Join(dir, "blobs", held[:2], held[2:4], ".tmp-123")
	newTmp := filepath.Join(dir, "blobs", held[:2], held[2:4], ".tmp-456")
	for _, p := range []string{oldTmp, newTmp} {
		if err := os.WriteFile(p, []byte("half a blob"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(oldTmp, old, old)
	foreign := filepath.Join(dir, "blobs", "README")
	if err := os.WriteFile(foreign, []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(foreign, old, old)
	before := time.Now().Add(-24 * time.Hour)
	refs := refsOf(held, "not-a-ref", held)

	t.Run("ErrRefs", func(t *testing.T) {
		failing := func(ctx context.Context, fn func(string) error) error { return errors.New("store down") }
		if _, err := s.Sweep(ctx, before, failing, false); err == nil {
			t.Fatal("Sweep succeeded with the references unreadable")
		}
		if !exists(orphan) {
			t.Fatal("Sweep deleted a blob without reading the references")
		}
	})
	t.Run("DryRun", func(t *testing.T) {
		r, err := s.Sweep(ctx, before, refs, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Blobs != 4 || r.Orphans != 1 || r.Temporary != 1 || r.Deleted != 0 || r.Bytes <= 0 {
			t.Errorf("report = %+v, want 4 blobs, 1 orphan, 1 temporary file, nothing deleted", r)
		}
		if !exists(orphan) {
			t.Error("a dry run deleted the orphan")
		}
		if _, err := os.Stat(oldTmp); err != nil {
			t.Error("a dry run deleted the temporary file")
		}
	})
	t.Run("OK", func(t *testing.T) {
		r, err := s.Sweep(ctx, before, refs, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.Orphans != 1 || r.Deleted != 2 {
			t.Errorf("report = %+v, want the orphan and the old temporary file deleted", r)
		}
		if exists(orphan) {
			t.Error("the orphan is still there")
		}
		for name, ref := range map[string]string{"held": held, "fresh": fresh, "stored again": reput} {
			if !exists(ref) {
				t.Errorf("the %s blob was deleted", name)
			}
		}
		if _, err := os.Stat(oldTmp); !os.IsNotExist(err) {
			t.Errorf("old temporary file: %v, want it deleted", err)
		}
		for _, p := range []string{newTmp, foreign} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v, want it kept", p, err)
			}
		}
	})
}
