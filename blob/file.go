// Package blob stores sample images and original transactions as files or
// S3 objects, encrypted at rest with AES-256-GCM under a blob key (which
// every blob names) and named by an HMAC under a naming key that never
// changes. The keys come from the key hierarchy (keyring, wired by
// cmd/huella); Reseal moves every blob to a new blob key.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/keyfile"
)

// KeySize is the size of the data key in bytes.
const KeySize = 32

// DefaultMaxSize is the largest blob Put accepts unless MaxSize is set.
const DefaultMaxSize = 64 << 20

// FileStore is a BlobStore of encrypted files under a directory, two levels
// of fan-out by reference prefix.
type FileStore struct {
	*sealer
	dir     string
	MaxSize int // bytes; DefaultMaxSize when zero

	bufs chan []byte // buffers to seal in, not in use
}

// keptBuffers is how many sealing buffers a FileStore keeps, and
// maxKeptBuffer the largest it keeps.
const (
	keptBuffers   = 4
	maxKeptBuffer = 8 << 20
)

var _ huella.BlobStore = (*FileStore)(nil)

// LoadOrCreateKey reads the data key from path, or creates it with mode
// 0600 (and its directory with 0700) on first start. A key file that is
// readable by others or of the wrong size is an error.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return keyfile.Create(path, KeySize)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key file %s: %d bytes, want %d", path, len(key), KeySize)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	return key, nil
}

// NewFileStore returns a store under dir using the 32-byte data key (see
// newSealer).
func NewFileStore(dir string, key []byte) (*FileStore, error) {
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: create directory: %w", err)
	}
	return &FileStore{sealer: sl, dir: dir, bufs: make(chan []byte, keptBuffers)}, nil
}

func (s *FileStore) path(ref string) string {
	return filepath.Join(s.dir, ref[:2], ref[2:4], ref)
}

// Put encrypts data and writes it durably: a temporary file is synced, then
// renamed into place and the directory synced, so a crash leaves either the
// whole blob or none.
func (s *FileStore) Put(ctx context.Context, data []byte) (string, error) {
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	ref, dir, err := s.write(data, true)
	if err != nil || dir == "" {
		return ref, err
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("blob: sync directory: %w", err)
	}
	return ref, nil
}

// PutAll stores every blob and makes them durable together: each file is
// written and renamed into place, then one sync of the file system (syncfs
// on Linux) covers them all, instead of two flushes per blob. An
// encounter's images are stored this way.
func (s *FileStore) PutAll(ctx context.Context, blobs [][]byte) ([]string, error) {
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	refs := make([]string, len(blobs))
	var dirs []string
	for i, data := range blobs {
		ref, dir, err := s.write(data, false)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
		if dir != "" {
			dirs = append(dirs, dir)
		}
	}
	if err := syncFileSystem(s.dir, dirs); err != nil {
		return nil, fmt.Errorf("blob: sync: %w", err)
	}
	return refs, nil
}

// write encrypts data into its content-addressed file, syncing the file
// first when syncFile is set, and returns the directory whose entry it
// added ("" when the blob was stored already).
func (s *FileStore) write(data []byte, syncFile bool) (ref, dir string, err error) {
	if err := checkSize(data, s.MaxSize); err != nil {
		return "", "", err
	}
	ref = s.Ref(data)
	p := s.path(ref)
	if _, err := os.Stat(p); err == nil {
		// Content-addressed: already stored. The file's time is renewed
		// so that Sweep sees it in use again until the record naming it
		// is committed.
		now := time.Now()
		if err := os.Chtimes(p, now, now); err != nil {
			return "", "", fmt.Errorf("blob: %w", err)
		}
		return ref, "", nil
	}
	// The sealed blob is built in a buffer reused from one write to the
	// next: a fresh one per image was a tenth of a center's CPU in
	// syncing a site's encounters (allocating and zeroing 1.5 MB each).
	var buf []byte
	select {
	case buf = <-s.bufs:
	default:
	}
	out, err := s.appendSeal(buf[:0], ref, data)
	if err != nil {
		return "", "", err
	}
	defer func() {
		if cap(out) <= maxKeptBuffer {
			select {
			case s.bufs <- out:
			default:
			}
		}
	}()
	dir = filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", "", fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("blob: write: %w", err)
	}
	if syncFile {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return "", "", fmt.Errorf("blob: sync: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", "", fmt.Errorf("blob: %w", err)
	}
	return ref, dir, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get reads and decrypts a blob.
func (s *FileStore) Get(ctx context.Context, ref string) ([]byte, error) {
	if !validRef(ref) {
		return nil, huella.Errorf(huella.ENOTFOUND, "blob not found")
	}
	raw, err := os.ReadFile(s.path(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, huella.Errorf(huella.ENOTFOUND, "blob not found")
	} else if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return s.open(ref, raw)
}

// Delete removes a blob.
func (s *FileStore) Delete(ctx context.Context, ref string) error {
	if !validRef(ref) {
		return nil
	}
	if err := os.Remove(s.path(ref)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// Close releases nothing: files are opened per call.
func (s *FileStore) Close() error { return nil }
