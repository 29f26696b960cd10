package enroll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/fusion"
)

// requestDigest is the hex SHA-256 of what an enrollment request asks, as
// the caller sent it: the encounter's fields, each image and the original
// transaction. Retries of one request have the same digest whatever their
// multipart boundaries.
func requestDigest(req *Request) string {
	h := sha256.New()
	fields, err := json.Marshal(req.Encounter)
	if err != nil {
		panic("enroll: an encounter that does not marshal: " + err.Error())
	}
	h.Write(fields)
	for _, img := range append(slices.Clone(req.Images), req.Original) {
		sum := sha256.Sum256(img)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a retry: the encounter the officer created with the key,
// if the request is the same. ECONFLICT if the key was used for another
// request.
func (s *Service) replay(ctx context.Context, prior *huella.Encounter, key *huella.Idempotency) (*huella.Encounter, error) {
	if prior.Idempotency == nil || prior.Idempotency.Digest != key.Digest {
		return nil, huella.Errorf(huella.ECONFLICT, "the Idempotency-Key was used for a different request")
	}
	if !huella.ActorFromContext(ctx).CanAccessSite(prior.SiteCode) {
		return nil, huella.Errorf(huella.EFORBIDDEN, "the encounter is at a site you do not work at")
	}
	return s.answer(ctx, prior)
}

// answer is the enrolled encounter as the officer sees it: a claim that
// did not hold gives no score to a caller who may not read the claimed
// subject, as /v1/verify gives none. (Candidates of the 1:N search, at or
// above the review threshold, are shown as /v1/identify shows them.)
func (s *Service) answer(ctx context.Context, e *huella.Encounter) (*huella.Encounter, error) {
	if e.Identification == nil || s.Identifier == nil {
		return e, nil
	}
	actor := huella.ActorFromContext(ctx)
	review := fusion.LLRForFMR(s.Identifier.ReviewFMR)
	for i, h := range e.Identification.Hits {
		if h.Kind != huella.HitDuplicate || h.Candidate == nil || h.Candidate.LLR >= review {
			continue
		}
		sub, err := s.Store.FindSubject(ctx, h.CandidateSubjectID)
		if err == nil && actor.CanReadSubject(sub) {
			continue
		}
		withheld := *h
		withheld.Candidate = &huella.Candidate{SubjectID: h.Candidate.SubjectID}
		e.Identification.Hits[i] = &withheld
	}
	return e, nil
}
