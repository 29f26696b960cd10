package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/minio/minio-go/v7"
)

// DefaultResealBatch is how many blobs Reseal makes durable together (a
// directory) or has in flight (a bucket, at most maxResealConcurrency)
// unless told.
const DefaultResealBatch = 64

// maxResealConcurrency bounds the objects an S3Store reseals at once.
const maxResealConcurrency = 8

// KeyUsage counts the blobs by the ID of the key that sealed them (KeyID),
// "" for blobs of format 1, which name none. It reads only each file's
// first bytes.
func (s *FileStore) KeyUsage(ctx context.Context) (map[string]int, error) {
	usage := map[string]int{}
	err := s.walk(ctx, func(ref, p string) error {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		} else if err != nil {
			return err
		}
		head := make([]byte, headerSize)
		n, err := io.ReadFull(f, head)
		f.Close()
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("blob %s: %w", ref, err)
		}
		id, err := blobKeyID(head[:n])
		if err != nil {
			return fmt.Errorf("blob %s: %w", ref, err)
		}
		usage[id]++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blob: key usage: %w", err)
	}
	return usage, nil
}

// walk calls fn for every blob file, by reference and path.
func (s *FileStore) walk(ctx context.Context, fn func(ref, path string) error) error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !validRef(d.Name()) || s.path(d.Name()) != p {
			return nil
		}
		return fn(d.Name(), p)
	})
}

// Reseal seals again with the active key (taken from the key source
// first) every blob sealed with another, or of format 1, under the same
// name, calling progress after each batch of batchSize blobs
// (DefaultResealBatch when 0), which are made durable together. It is
// online (Put goes on: a blob written meanwhile under the old key is found
// by the next pass) and resumable: a blob is replaced whole, by a synced
// temporary file renamed over it, so after a crash a run again carries on
// with the blobs still under an older key.
func (s *FileStore) Reseal(ctx context.Context, batchSize int, progress func(ResealProgress)) error {
	if batchSize <= 0 {
		batchSize = DefaultResealBatch
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	var p ResealProgress
	type pending struct{ tmp, dst string }
	var batch []pending
	defer func() {
		for _, b := range batch {
			os.Remove(b.tmp)
		}
	}()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// The new files' data first, then their names: a crash leaves
		// every blob whole, under one key or the other.
		if err := syncFileSystem(s.dir, nil); err != nil {
			return err
		}
		for _, b := range batch {
			if _, err := os.Stat(b.dst); errors.Is(err, fs.ErrNotExist) {
				os.Remove(b.tmp) // deleted meanwhile (a purge): not brought back
				continue
			}
			if err := os.Rename(b.tmp, b.dst); err != nil {
				return err
			}
			p.Resealed++
		}
		batch = batch[:0]
		if err := syncFileSystem(s.dir, nil); err != nil {
			return err
		}
		if progress != nil {
			progress(p)
		}
		return nil
	}
	err := s.walk(ctx, func(ref, dst string) error {
		p.Examined++
		raw, err := os.ReadFile(dst)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		out, err := s.reseal(ref, raw)
		if err != nil || out == nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
		if err != nil {
			return err
		}
		batch = append(batch, pending{tmp.Name(), dst})
		if _, err := tmp.Write(out); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		p.Bytes += int64(len(out))
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("blob: reseal: %w", err)
	}
	if progress != nil {
		progress(p)
	}
	return nil
}

// objects calls fn for every blob object of the store, by reference and
// object name.
func (s *S3Store) objects(ctx context.Context, fn func(ref, name string) error) error {
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		ref := path.Base(obj.Key)
		if !validRef(ref) || s.object(ref) != obj.Key {
			continue // not ours: left alone
		}
		if err := fn(ref, obj.Key); err != nil {
			return err
		}
	}
	return nil
}

// head returns the first bytes of an object, nil when it is gone.
func (s *S3Store) head(ctx context.Context, name string) ([]byte, error) {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, headerSize-1); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, opts)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, headerSize))
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil, nil
	}
	return b, err
}

// KeyUsage counts the blobs by the ID of the key that sealed them, as
// FileStore.KeyUsage does, reading each object's first bytes.
func (s *S3Store) KeyUsage(ctx context.Context) (map[string]int, error) {
	usage := map[string]int{}
	var mu sync.Mutex
	err := s.each(ctx, maxResealConcurrency, func(ref, name string) error {
		head, err := s.head(ctx, name)
		if err != nil || head == nil {
			return err
		}
		id, err := blobKeyID(head)
		if err != nil {
			return fmt.Errorf("blob %s: %w", ref, err)
		}
		mu.Lock()
		usage[id]++
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blob: key usage: %w", err)
	}
	return usage, nil
}

// each calls fn for every blob object, a few at a time.
func (s *S3Store) each(ctx context.Context, concurrency int, fn func(ref, name string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	err := s.objects(ctx, func(ref, name string) error {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ref, name); err != nil {
				fail(err)
			}
		}()
		return nil
	})
	wg.Wait()
	if first != nil {
		return first
	}
	return err
}

// Reseal seals again with the active key every object sealed with another
// (or of format 1), under the same name, a few at a time, as
// FileStore.Reseal does; S3 replaces an object whole, so it is resumable
// after a crash. batch objects are in flight at once (DefaultResealBatch
// when 0, at most maxResealConcurrency); progress hears after every
// object resealed.
func (s *S3Store) Reseal(ctx context.Context, batch int, progress func(ResealProgress)) error {
	if batch <= 0 {
		batch = DefaultResealBatch
	}
	batch = min(batch, maxResealConcurrency)
	if err := s.refresh(ctx); err != nil {
		return err
	}
	var p ResealProgress
	var mu sync.Mutex
	active := s.activeID()
	err := s.each(ctx, batch, func(ref, name string) error {
		head, err := s.head(ctx, name)
		if err != nil || head == nil {
			return err
		}
		mu.Lock()
		p.Examined++
		mu.Unlock()
		if id, err := blobKeyID(head); err != nil {
			return fmt.Errorf("blob %s: %w", ref, err)
		} else if id == active {
			return nil
		}
		raw, err := s.getRaw(ctx, name)
		if err != nil || raw == nil {
			return err
		}
		out, err := s.reseal(ref, raw)
		if err != nil || out == nil {
			return err
		}
		if _, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(out), int64(len(out)),
			minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		p.Resealed++
		p.Bytes += int64(len(out))
		if progress != nil {
			progress(p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("blob: reseal: %w", err)
	}
	if progress != nil {
		progress(p)
	}
	return nil
}

// getRaw downloads an object as stored, nil when it is gone.
func (s *S3Store) getRaw(ctx context.Context, name string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	maxSize := s.MaxSize
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	raw, err := io.ReadAll(io.LimitReader(obj, int64(maxSize)+1024))
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil, nil
	}
	return raw, err
}
