// Package enroll runs the flow of one encounter: validate everything first,
// then store the images encrypted and the records in one transaction, so
// that bad input changes nothing and an acknowledged encounter is complete.
package enroll

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"log/slog"
	"time"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/jpeg2000"
	"github.com/huella-abis/huella/isomap"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/wsq"
)

// DefaultMaxImageSize is the largest image accepted unless configured.
const DefaultMaxImageSize = 20 << 20

// Request is an encounter to enroll with the bytes of its images:
// Images[i] is the image of Encounter.Samples[i].
type Request struct {
	Encounter *huella.Encounter
	Images    [][]byte
	// Original is the ANSI/NIST transaction the request was imported from,
	// stored whole when set.
	Original []byte
	// IdempotencyKey, when set, makes the request safe to retry: it is
	// stored with the encounter, a retry with the same key and content is
	// answered with the encounter made the first time, and the key with
	// different content is ECONFLICT. Keys are unique per officer.
	IdempotencyKey string
}

// Store is what enrollment reads and writes: the records, the watchlists
// and hits, and retention.
type Store interface {
	huella.Store
	huella.IdentityStore
	huella.PurgeStore
}

// Service enrolls encounters.
type Service struct {
	Store        Store
	Blobs        huella.BlobStore
	Now          func() time.Time
	MaxImageSize int // bytes; DefaultMaxImageSize when zero
	// Identifier extracts templates and searches the galleries; nil stores
	// encounters without biometric search.
	Identifier *match.Identifier
	// Logger records failures that do not fail the request. It never
	// receives biographic values or images.
	Logger *slog.Logger
	// OnEnrolled, when set, is called after each stored enrollment,
	// whichever door it came in by (API, console, import, demo): metrics.
	OnEnrolled func(e *huella.Encounter)
}

// NewService returns a service over the store and blob store.
func NewService(store Store, blobs huella.BlobStore) *Service {
	return &Service{Store: store, Blobs: blobs, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
}

// Enroll validates the request, decodes every image, stores the images and
// then the encounter. The encounter's officer is the actor in ctx. Nothing
// is written unless every check passes.
//
// A SubjectID in the request is a claim, checked like any candidate
// (claim.go): the encounter is linked to the subject only if the
// biometrics verify at the auto-link threshold; otherwise it becomes a new
// subject with a duplicate hit on the claimed one for an examiner. A claim
// that cannot be compared is EUNPROCESSABLE.
func (s *Service) Enroll(ctx context.Context, req *Request) (*huella.Encounter, error) {
	e := req.Encounter
	if e == nil {
		return nil, huella.Errorf(huella.EINVALID, "encounter required")
	}
	actor := huella.ActorFromContext(ctx)
	if actor == nil {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "no user")
	}
	if !actor.CanAccessSite(e.SiteCode) {
		return nil, huella.Errorf(huella.EFORBIDDEN, "you may not enroll at site %s", e.SiteCode)
	}
	if req.IdempotencyKey != "" {
		if err := huella.ValidateIdempotencyKey(req.IdempotencyKey); err != nil {
			return nil, err
		}
		key := &huella.Idempotency{Key: req.IdempotencyKey, Digest: requestDigest(req)}
		prior, err := s.Store.FindEncounterByIdempotencyKey(ctx, actor.ID, key.Key)
		switch huella.ErrorCode(err) {
		case "":
			return s.replay(ctx, prior, key)
		case huella.ENOTFOUND:
		default:
			return nil, err
		}
		e.Idempotency = key
	}
	e.Officer = actor.ID
	if e.Purpose == "" {
		e.Purpose = huella.PurposeEnforcement
	}
	if len(req.Images) != len(e.Samples) {
		return nil, huella.Errorf(huella.EINVALID, "every sample needs exactly one image")
	}
	// ISO/IEC 19794 records become the samples of the images they hold.
	samples, images, err := isomap.UnwrapAll(e.Samples, req.Images)
	if err != nil {
		return nil, err
	}
	e.Samples, req.Images = samples, images
	if _, err := s.Store.FindSite(ctx, e.SiteCode); err != nil {
		if huella.ErrorCode(err) == huella.ENOTFOUND {
			return nil, huella.Errorf(huella.EINVALID, "unknown site %s", e.SiteCode)
		}
		return nil, err
	}
	// Inspect images: format, size, and that they decode at all. The
	// reference is a placeholder until the image is stored, so that the
	// encounter validates before anything is written.
	for i, smp := range e.Samples {
		if err := s.inspect(smp, req.Images[i]); err != nil {
			return nil, huella.Errorf(huella.EINVALID, "samples[%d]: %s", i, huella.ErrorMessage(err))
		}
		smp.ImageRef = placeholderRef
	}
	if err := e.Validate(s.Now()); err != nil {
		return nil, err
	}
	// Slaps: their fingertips join as plain prints, once checked against
	// the individual prints (the sequence check, after extraction).
	tips, err := segmentSlaps(e, req.Images)
	if err != nil {
		return nil, err
	}
	images, fromSlap := addFingertips(e, req.Images, tips)
	if s.Identifier == nil && len(fromSlap) > 0 {
		template := localTemplates(e, images, fromSlap)
		if err := checkSequence(e, fromSlap, template); err != nil {
			return nil, err
		}
		images, _ = dropUnusable(e, images, fromSlap, template, nil)
	}
	claimed := e.SubjectID
	if claimed != "" {
		if _, err := s.Store.FindSubject(ctx, claimed); err != nil {
			return nil, err
		}
		if s.Identifier == nil {
			return nil, huella.Errorf(huella.EUNSUPPORTED, "a claimed subject_id is verified biometrically, and biometric search is not enabled")
		}
	}
	var mark uint64 // the gallery's position before the search
	if s.Identifier != nil {
		mark = s.Identifier.Mark()
		if images, err = s.identify(ctx, e, images, fromSlap); err != nil {
			return nil, err
		}
	}
	// Linked by the search (a claim that held counts as one): should the
	// subject be purged meanwhile, create searches again.
	autoLink := e.SubjectID != ""
	blobLock.RLock() // until the record names the images (purge.go)
	defer blobLock.RUnlock()
	// All the images are made durable with one sync.
	refs, err := s.Blobs.PutAll(ctx, images)
	if err != nil {
		return nil, fmt.Errorf("store images: %w", err)
	}
	for i, smp := range e.Samples {
		smp.ImageRef = refs[i]
	}
	if req.Original != nil {
		ref, err := s.Blobs.Put(ctx, req.Original)
		if err != nil {
			return nil, fmt.Errorf("store original transaction: %w", err)
		}
		e.OriginalRef = ref
	}
	if err := s.create(ctx, e, autoLink); err != nil {
		if e.Idempotency != nil && huella.ErrorCode(err) == huella.ECONFLICT {
			// A retry of the same request ran at the same time and won.
			if prior, ferr := s.Store.FindEncounterByIdempotencyKey(ctx, actor.ID, e.Idempotency.Key); ferr == nil {
				return s.replay(ctx, prior, e.Idempotency)
			}
		}
		return nil, err
	}
	if s.Identifier != nil {
		// The encounter is stored; a gallery that misses it gets it
		// from the enrollment's gallery event.
		if err := s.Identifier.Enrolled(e); err != nil {
			s.Logger.ErrorContext(ctx, "gallery update failed", "encounter", e.ID, "err", err)
		} else if e.Identification.Decision != huella.DecisionLinked {
			s.reviewMissed(ctx, e, mark)
		}
	}
	if s.OnEnrolled != nil {
		s.OnEnrolled(e)
	}
	return s.answer(ctx, e)
}

// reviewMissed raises duplicate hits on the subjects enrolled while e was
// being searched (Identifier.Missed) and adds them to e's identification,
// so that one person enrolled twice at once still goes before an
// examiner. The encounter is stored whatever happens here; a failure is
// logged. (The identification stored with the encounter keeps the
// search's own decision; the hits are in the queue.)
func (s *Service) reviewMissed(ctx context.Context, e *huella.Encounter, mark uint64) {
	hits, err := s.Identifier.Missed(ctx, e, mark)
	if err == nil && len(hits) > 0 {
		err = s.Identifier.Store.CreateHits(ctx, hits)
	}
	if err != nil {
		s.Logger.ErrorContext(ctx, "review of concurrent enrollments failed", "encounter", e.ID, "err", err)
		return
	}
	for _, h := range hits {
		e.Identification.Candidates = append(e.Identification.Candidates, h.Candidate)
		e.Identification.Hits = append(e.Identification.Hits, h)
		e.Identification.Decision = huella.DecisionReview
	}
}

// identify extracts the templates, runs the sequence check on the
// fingertips added from slaps (fromSlap) and drops those without a
// template, then searches the galleries. It returns the images left. The
// decision may link the encounter to a subject above the auto-link
// threshold; a claimed subject (SubjectID given) is linked only if it is
// that subject (Identifier.Claim).
func (s *Service) identify(ctx context.Context, e *huella.Encounter, images [][]byte, fromSlap map[int]int) ([][]byte, error) {
	if err := s.Identifier.Ready(); err != nil {
		return nil, err
	}
	recapture := s.Identifier.Extract(ctx, e.Samples, images)
	template := func(i int) *finger.Candidate { return extractedTemplate(e.Samples[i]) }
	if _, ok := s.Identifier.Engines[huella.ModalityFinger]; !ok && len(fromSlap) > 0 {
		template = localTemplates(e, images, fromSlap) // a search without fingers
	}
	if err := checkSequence(e, fromSlap, template); err != nil {
		return nil, err
	}
	images, recapture = dropUnusable(e, images, fromSlap, template, recapture)
	if e.SubjectID != "" {
		id, err := s.Identifier.Claim(ctx, match.Probe(e.Samples), e.SubjectID)
		if err != nil {
			return nil, err
		}
		id.Recapture = recapture
		if id.Decision != huella.DecisionLinked {
			e.SubjectID = "" // a new subject, until an examiner confirms the claim
		}
		e.Identification = id
		return images, nil
	}
	id, err := s.Identifier.Identify(ctx, match.Probe(e.Samples))
	if err != nil {
		return nil, fmt.Errorf("identify: %w", err)
	}
	id.Recapture = recapture
	if id.Decision == huella.DecisionLinked {
		e.SubjectID = id.Candidates[0].SubjectID
	}
	e.Identification = id
	return images, nil
}

// create stores the encounter. When the subject it was linked to
// automatically is gone (purged since the galleries were searched, by
// this process or by another one), the subject leaves the gallery and the
// encounter is searched once more without it.
func (s *Service) create(ctx context.Context, e *huella.Encounter, autoLink bool) error {
	err := s.Store.CreateEncounter(ctx, e)
	if err == nil || !autoLink || huella.ErrorCode(err) != huella.ENOTFOUND {
		return err
	}
	s.Identifier.Purged([]string{e.SubjectID})
	id, err := s.Identifier.Identify(ctx, match.Probe(e.Samples))
	if err != nil {
		return fmt.Errorf("identify: %w", err)
	}
	id.Recapture = e.Identification.Recapture
	e.SubjectID = ""
	if id.Decision == huella.DecisionLinked {
		e.SubjectID = id.Candidates[0].SubjectID
	}
	e.Identification = id
	return s.Store.CreateEncounter(ctx, e)
}

const placeholderRef = "0000000000000000000000000000000000000000000000000000000000000000"

// inspect decodes the image fully, sets the sample's format and size, and
// checks the declared format against the bytes.
func (s *Service) inspect(smp *huella.Sample, data []byte) error {
	maxSize := s.MaxImageSize
	if maxSize == 0 {
		maxSize = DefaultMaxImageSize
	}
	if len(data) == 0 {
		return huella.Errorf(huella.EINVALID, "image is empty")
	}
	if len(data) > maxSize {
		return huella.Errorf(huella.ETOOLARGE, "image larger than %d bytes", maxSize)
	}
	if err := checkCaptureSize(smp, data); err != nil {
		return err
	}
	format, w, h, ppi, err := s.decode(data)
	if err != nil {
		return err
	}
	if smp.Format != "" && smp.Format != format {
		return huella.Errorf(huella.EINVALID, "declared format %s but the image is %s", smp.Format, format)
	}
	smp.Format, smp.Width, smp.Height = format, w, h
	if smp.PPI == 0 {
		smp.PPI = ppi
	}
	return nil
}

// decode identifies the format by its signature and decodes the image.
func (s *Service) decode(data []byte) (format string, w, h, ppi int, err error) {
	if wsq.IsWSQ(data) {
		f, err := wsq.DecodeFile(data)
		if err != nil {
			return "", 0, 0, 0, huella.Errorf(huella.EINVALID, "WSQ image does not decode: %v", err)
		}
		b := f.Image.Bounds()
		return "wsq", b.Dx(), b.Dy(), f.PPI, nil
	}
	_, hdr, err := imgproc.Decode(data, imgproc.MaxPixels)
	switch {
	case errors.Is(err, jpeg2000.ErrUnsupported):
		return "", 0, 0, 0, huella.Errorf(huella.EUNSUPPORTED, "this JPEG 2000 image uses a coding feature Huella does not decode")
	case hdr.Format == "":
		return "", 0, 0, 0, huella.Errorf(huella.EINVALID, "image does not decode (PNG, JPEG, TIFF, BMP, WSQ or JPEG 2000 expected)")
	case errors.Is(err, imgproc.ErrImageSize):
		return "", 0, 0, 0, huella.Errorf(huella.EINVALID, "image size %dx%d out of range", hdr.Width, hdr.Height)
	case err != nil:
		return "", 0, 0, 0, huella.Errorf(huella.EINVALID, "image does not decode: it is truncated or corrupt")
	}
	return hdr.Format, hdr.Width, hdr.Height, 0, nil
}
