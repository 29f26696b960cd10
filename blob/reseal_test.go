package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
)

// rotatable is what a blob key rotation needs of a store.
type rotatable interface {
	huella.BlobStore
	KeyID() string
	SetKeys(*blob.Keys) error
	SetKeySource(blob.KeySource)
	KeyUsage(ctx context.Context) (map[string]int, error)
	Reseal(ctx context.Context, batch int, progress func(blob.ResealProgress)) error
}

func TestFileStoreReseal(t *testing.T) {
	dir := t.TempDir()
	key := mustKey(t)
	s, err := blob.NewFileStore(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	testReseal(t, s, key)
}

func TestS3StoreReseal(t *testing.T) {
	key := mustKey(t)
	s, _, _, _ := MustOpenS3Key(t, key)
	testReseal(t, s, key)
}

func mustKey(tb testing.TB) []byte {
	tb.Helper()
	key := make([]byte, blob.KeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// testReseal rotates a store's blob key while blobs are written: every blob
// keeps its name, opens during and after, ends under the new key, and the
// old key is then no longer needed.
func testReseal(t *testing.T, s rotatable, old []byte) {
	ctx := context.Background()
	images := map[string][]byte{}
	for i := range 40 {
		data := []byte(fmt.Sprintf("image %d %s", i, bytes.Repeat([]byte{byte(i)}, 1000+i)))
		ref, err := s.Put(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		images[ref] = data
	}
	oldID := s.KeyID()
	if oldID != blob.KeyID(old) {
		t.Fatalf("KeyID = %s, want %s", oldID, blob.KeyID(old))
	}
	usage, err := s.KeyUsage(ctx)
	if err != nil || usage[oldID] != len(images) || len(usage) != 1 {
		t.Fatalf("usage before = %v, %v", usage, err)
	}

	// The new key comes from the key source, as from another process.
	next := mustKey(t)
	var rotated atomic.Bool
	keys := &blob.Keys{Active: next, Others: [][]byte{old}, Naming: blob.NamingKey(old)}
	s.SetKeySource(func(context.Context) (*blob.Keys, error) {
		if rotated.Load() {
			return keys, nil
		}
		return &blob.Keys{Active: old, Naming: blob.NamingKey(old)}, nil
	})
	if err := s.SetKeys(&blob.Keys{Active: old, Naming: blob.NamingKey(old)}); err != nil {
		t.Fatal(err)
	}
	rotated.Store(true)
	t.Run("ErrNamingKeyChanged", func(t *testing.T) {
		if err := s.SetKeys(&blob.Keys{Active: next}); err == nil {
			t.Fatal("a new naming key was accepted: every blob would be renamed")
		}
	})

	// Enrollment goes on while the blobs are resealed.
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			data := []byte(fmt.Sprintf("written during the rotation %d", i))
			ref, err := s.Put(ctx, data)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			images[ref] = data
			mu.Unlock()
		}
	}()
	var last blob.ResealProgress
	if err := s.Reseal(ctx, 7, func(p blob.ResealProgress) { last = p }); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if last.Resealed != 40 || last.Bytes < 40*1000 {
		t.Errorf("progress = %+v, want 40 resealed", last)
	}
	if s.KeyID() != blob.KeyID(next) {
		t.Fatalf("the store seals with %s, want the new key %s", s.KeyID(), blob.KeyID(next))
	}
	usage, err = s.KeyUsage(ctx)
	if err != nil || usage[oldID] != 0 || usage[blob.KeyID(next)] != len(images) {
		t.Fatalf("usage after = %v, %v; want all %d under the new key", usage, err, len(images))
	}
	if err := s.Reseal(ctx, 7, func(p blob.ResealProgress) { last = p }); err != nil || last.Resealed != 0 {
		t.Fatalf("a second pass: %+v, %v", last, err)
	}

	// The old key retired: everything opens, names unchanged.
	if err := s.SetKeys(&blob.Keys{Active: next, Naming: blob.NamingKey(old)}); err != nil {
		t.Fatal(err)
	}
	s.SetKeySource(nil)
	for ref, data := range images {
		got, err := s.Get(ctx, ref)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get(%s) = %d bytes, %v", ref, len(got), err)
		}
		if again, err := s.Put(ctx, data); err != nil || again != ref {
			t.Fatalf("the same image is named %s after the rotation, %s before (%v)", again, ref, err)
		}
	}
}

// BenchmarkReseal reseals 200 images of 100 KB (the size of an enrolled
// finger PNG) under a new key: blobs/s and MB/s of wall time, and the
// process's CPU seconds per blob (the machine is shared, so wall time is
// inflated by load).
func BenchmarkReseal(b *testing.B) {
	const n, size = 200, 100 << 10
	images := make([][]byte, n)
	for i := range images {
		images[i] = make([]byte, size)
		rand.Read(images[i])
	}
	run := func(b *testing.B, open func(key []byte) rotatable) {
		ctx := context.Background()
		var resealed int
		var bytesOut int64
		var wall, cpu time.Duration
		for range b.N {
			b.StopTimer()
			old := mustKey(b)
			s := open(old)
			if err := s.SetKeys(&blob.Keys{Active: old, Naming: blob.NamingKey(old)}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i += 10 {
				if _, err := s.PutAll(ctx, images[i:i+10]); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.SetKeys(&blob.Keys{Active: mustKey(b), Others: [][]byte{old}, Naming: blob.NamingKey(old)}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			var last blob.ResealProgress
			if err := s.Reseal(ctx, 0, func(p blob.ResealProgress) { last = p }); err != nil {
				b.Fatal(err)
			}
			wall += time.Since(start)
			cpu += cpuTime() - cpu0
			if last.Resealed != n {
				b.Fatalf("resealed %d of %d", last.Resealed, n)
			}
			resealed += last.Resealed
			bytesOut += last.Bytes
		}
		b.ReportMetric(float64(resealed)/wall.Seconds(), "blobs/s")
		b.ReportMetric(float64(bytesOut)/1e6/wall.Seconds(), "MB/s")
		b.ReportMetric(cpu.Seconds()*1e3/float64(resealed), "cpu-ms/blob")
	}
	b.Run("File", func(b *testing.B) {
		run(b, func(key []byte) rotatable {
			s, err := blob.NewFileStore(b.TempDir(), key)
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
	b.Run("S3", func(b *testing.B) {
		run(b, func(key []byte) rotatable {
			s, _, _, _ := MustOpenS3Key(b, key)
			return s
		})
	})
}

// cpuTime is the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
