package enroll

import (
	"context"
	"sync"

	"github.com/huella-abis/huella"
)

// blobLock orders, within the process, storing images before the record
// that names them (read-locked: enrollments run side by side) against a
// purge deleting the images no record names once it has committed
// (write-locked): blobs are content-addressed, so an enrollment may store
// again the very image a purge is about to delete.
var blobLock sync.RWMutex

// PurgeSubject erases a subject as the actor in ctx, with a reason: the
// store deletes its records and those of the subjects merged into it in
// one transaction (huella.PurgeStore), the running identifier stops
// matching them at once, and the images and original transactions no
// record names any more are deleted. An image whose deletion fails is
// logged and left to the orphan sweep (huella purge --orphans). EINVALID
// without a known reason; ENOTFOUND; ECONFLICT for a merged subject.
func (s *Service) PurgeSubject(ctx context.Context, id string, reason huella.PurgeReason) (*huella.Purge, error) {
	blobLock.Lock()
	defer blobLock.Unlock()
	p, err := s.Store.PurgeSubject(ctx, id, reason)
	if err != nil {
		return nil, err
	}
	if s.Identifier != nil {
		s.Identifier.Purged(p.Subjects)
	}
	// The records are gone: the images go even if the caller has left.
	ctx = context.WithoutCancel(ctx)
	failed := 0
	for _, ref := range p.Blobs {
		if err := s.Blobs.Delete(ctx, ref); err != nil {
			failed++
			s.Logger.ErrorContext(ctx, "delete purged blob failed; the orphan sweep will", "subject", id, "err", err)
		}
	}
	if failed > 0 {
		s.Logger.WarnContext(ctx, "purged blobs left for the orphan sweep", "subject", id, "count", failed)
	}
	return p, nil
}
