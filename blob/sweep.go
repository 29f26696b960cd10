package blob

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SweepReport is what a sweep found and did.
type SweepReport struct {
	Blobs     int   // blob files examined
	Orphans   int   // of which no record references (and older than the cut-off)
	Bytes     int64 // the orphans' size on disk
	Temporary int   // temporary files left by an interrupted write
	Deleted   int   // orphans and temporary files deleted (0 in a dry run)
}

// Sweep deletes the blobs that no record references, and the temporary
// files an interrupted write left: orphans of a crash between a purge's
// commit and its deletion of the images, or of an enrollment that failed
// after storing its images. refs streams every reference the records hold
// (huella.PurgeStore.ForEachBlobRef); it is read after the directory is
// listed, so a record committed meanwhile keeps its blobs. Files written,
// or stored again, at before or later are never deleted: an enrollment
// stores its images a moment before its records. Set before an hour or
// more in the past. With dryRun nothing is deleted.
func (s *FileStore) Sweep(ctx context.Context, before time.Time, refs func(ctx context.Context, fn func(ref string) error) error, dryRun bool) (*SweepReport, error) {
	r := &SweepReport{}
	candidates := make(map[[32]byte]int64) // old blob -> size
	var temporary []string
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // renamed or deleted meanwhile
		} else if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".tmp-") {
			if info.ModTime().Before(before) {
				temporary = append(temporary, path)
			}
			return nil
		}
		if !validRef(name) || s.path(name) != path {
			return nil // not ours: left alone
		}
		r.Blobs++
		if info.ModTime().Before(before) {
			candidates[refKey(name)] = info.Size()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blob: sweep: %w", err)
	}
	if err := refs(ctx, func(ref string) error {
		if validRef(ref) {
			delete(candidates, refKey(ref))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("blob: sweep: %w", err)
	}
	r.Orphans, r.Temporary = len(candidates), len(temporary)
	for _, size := range candidates {
		r.Bytes += size
	}
	if dryRun {
		return r, nil
	}
	for key := range candidates {
		p := s.path(hex.EncodeToString(key[:]))
		// Stored again since the listing: about to be referenced.
		if info, err := os.Stat(p); err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("blob: sweep: %w", err)
		}
		r.Deleted++
	}
	for _, p := range temporary {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("blob: sweep: %w", err)
		}
		r.Deleted++
	}
	return r, nil
}

// refKey is the 32 bytes a valid reference encodes.
func refKey(ref string) [32]byte {
	var k [32]byte
	hex.Decode(k[:], []byte(ref))
	return k
}
