package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/gallery"
)

// Objects is the object storage that holds the shards' snapshots, as
// sealed streams under names (blob.S3Store).
type Objects interface {
	// PutStream stores r's bytes as the stream name, replacing the
	// previous one only once complete.
	PutStream(ctx context.Context, name string, r io.Reader) (int64, error)
	// GetStream opens the stream name; ENOTFOUND when there is none.
	GetStream(ctx context.Context, name string) (io.ReadCloser, error)
	// DeleteStream removes the stream name; a missing one is not an
	// error.
	DeleteStream(ctx context.Context, name string) error
}

// SnapshotSource is what a snapshot is taken from: the store's subject
// gallery and its outbox's head.
type SnapshotSource interface {
	ForEachTemplate(ctx context.Context, kind huella.GalleryKind, fn func(*huella.Template) error) error
	GalleryEventHead(ctx context.Context) (int64, error)
}

// SnapshotManifest names the snapshots of the subject gallery split into
// Shards shards, one object per shard (gallery snapshot format HGS2), and
// the gallery event they hold every change up to: a matcher loads its
// shard's object and follows the gallery stream from Seq+1. It is itself
// stored as a sealed stream, ManifestName(Shards), written after the
// objects it names.
type SnapshotManifest struct {
	V         int       `json:"v"`
	Shards    int       `json:"shards"`
	Seq       int64     `json:"seq"`
	Taken     time.Time `json:"taken"`
	Objects   []string  `json:"objects"`   // by shard index
	Templates []int     `json:"templates"` // by shard index
	// Previous are the objects of the snapshot this one replaced: kept
	// for the matchers still reading them, deleted by the next snapshot.
	Previous []string `json:"previous,omitempty"`
}

// snapshotVersion is the manifest's format version.
const snapshotVersion = 1

// ManifestName is the name of the manifest of the snapshots in count
// shards.
func ManifestName(count int) string { return fmt.Sprintf("gallery/%d/manifest.json", count) }

// ReadManifest returns the newest manifest of the snapshots in count
// shards; ENOTFOUND when none was written.
func ReadManifest(ctx context.Context, objects Objects, count int) (*SnapshotManifest, error) {
	r, err := objects.GetStream(ctx, ManifestName(count))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var m SnapshotManifest
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("snapshot manifest %s: %w", ManifestName(count), err)
	}
	if m.V != snapshotVersion || m.Shards != count || len(m.Objects) != count || len(m.Templates) != count || m.Seq < 0 {
		return nil, fmt.Errorf("snapshot manifest %s: version %d, %d shards, %d objects: not one this matcher reads",
			ManifestName(count), m.V, m.Shards, len(m.Objects))
	}
	return &m, nil
}

// WriteSnapshots takes a snapshot of the store's subject gallery split
// into count shards (by Of), uploading the shards' objects at once in one
// pass over the templates, then the manifest. The outbox's head is read
// before the templates: the snapshot holds every change up to it (and
// perhaps some after, which following the stream applies again without
// harm, as a matcher loading from the store does). The objects of the
// snapshot before the one replaced are deleted.
func WriteSnapshots(ctx context.Context, store SnapshotSource, objects Objects, count int, now time.Time) (*SnapshotManifest, error) {
	if count < 1 {
		return nil, huella.Errorf(huella.EINVALID, "a snapshot needs 1 shard or more")
	}
	old, err := ReadManifest(ctx, objects, count)
	if err != nil && huella.ErrorCode(err) != huella.ENOTFOUND {
		old = nil // unreadable (another key, another version): replaced
	}
	seq, err := store.GalleryEventHead(ctx)
	if err != nil {
		return nil, err
	}
	m := &SnapshotManifest{V: snapshotVersion, Shards: count, Seq: seq, Taken: now.UTC(),
		Objects: make([]string, count), Templates: make([]int, count)}
	if old != nil {
		m.Previous = old.Objects
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pipes := make([]*io.PipeWriter, count)
	writers := make([]*gallery.SnapshotWriter, count)
	uploaded := make(chan error, count)
	for i := range count {
		m.Objects[i] = fmt.Sprintf("gallery/%d/%s-%d/shard-%d.hgs", count, m.Taken.Format("20060102T150405.000000000Z"), seq, i)
		r, w := io.Pipe()
		pipes[i] = w
		go func() {
			_, err := objects.PutStream(ctx, m.Objects[i], r)
			r.CloseWithError(err) // unblocks the writer if the upload failed
			uploaded <- err
		}()
		// The header goes to the writer's buffer: it cannot fail here.
		writers[i], _ = gallery.NewSnapshotWriter(w)
	}
	err = store.ForEachTemplate(ctx, huella.GallerySubjects, func(t *huella.Template) error {
		i := Of(t.SubjectID, count)
		m.Templates[i]++
		return writers[i].Write(t)
	})
	for i, w := range writers {
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			pipes[i].CloseWithError(err)
		} else {
			pipes[i].Close()
		}
	}
	var errs []error
	for range count {
		errs = append(errs, <-uploaded)
	}
	if err := errors.Join(append([]error{err}, errs...)...); err != nil {
		for _, name := range m.Objects {
			objects.DeleteStream(context.WithoutCancel(ctx), name)
		}
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if _, err := objects.PutStream(ctx, ManifestName(count), bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("snapshot manifest: %w", err)
	}
	if old != nil {
		for _, name := range old.Previous {
			if err := objects.DeleteStream(ctx, name); err != nil {
				return m, fmt.Errorf("snapshot: delete an old one: %w", err)
			}
		}
	}
	return m, nil
}

// LoadSnapshot fills the matcher's empty gallery from the newest snapshot
// of its shard in objects, and returns the seq of the gallery event it
// holds every change up to (follow the stream from the next) and how many
// templates it added. ENOTFOUND when no snapshot in this many shards was
// written. After an error the gallery may hold part of the snapshot:
// start again with an empty one.
func (m *Matcher) LoadSnapshot(ctx context.Context, objects Objects) (seq int64, n int, err error) {
	if m.Gallery.Len() != 0 {
		return 0, 0, huella.Errorf(huella.ECONFLICT, "shard %s: a snapshot loads into an empty gallery", m.Spec)
	}
	man, err := ReadManifest(ctx, objects, m.Spec.Count)
	if err != nil {
		return 0, 0, err
	}
	r, err := objects.GetStream(ctx, man.Objects[m.Spec.Index])
	if err != nil {
		return 0, 0, fmt.Errorf("shard %s: snapshot %s: %w", m.Spec, man.Objects[m.Spec.Index], err)
	}
	defer r.Close()
	n, err = m.Gallery.LoadSnapshot(r)
	if err != nil {
		return 0, n, fmt.Errorf("shard %s: snapshot %s: %w", m.Spec, man.Objects[m.Spec.Index], err)
	}
	if n != man.Templates[m.Spec.Index] {
		return 0, n, fmt.Errorf("shard %s: snapshot %s holds %d templates, its manifest %d", m.Spec, man.Objects[m.Spec.Index], n, man.Templates[m.Spec.Index])
	}
	return man.Seq, n, nil
}
