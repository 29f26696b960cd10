package match

import (
	"context"
	"slices"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/fusion"
)

// Claim decides an encounter whose officer named the subject it belongs
// to. The claim is verified like any candidate: the probe is compared with
// the claimed subject (1:1) and searched against everyone (1:N, which also
// raises the watchlist hits). The encounter is linked to the claimed
// subject only if the comparison reaches the auto-link threshold (FMR
// 1e-6) and no other subject reaches it too. Otherwise the decision is
// review: the encounter becomes a new subject with a pending duplicate hit
// on the claimed subject, whatever its score, beside the hits on the other
// candidates, and an examiner decides.
//
// A claim that cannot be compared (the probe has no usable sample, or it
// and the subject share no modality) is EUNPROCESSABLE: an examiner would
// have nothing biometric to confirm. The officer captures a modality the
// subject has, or enrolls without the claim (the search still finds the
// person if they were enrolled before).
func (x *Identifier) Claim(ctx context.Context, probe []*huella.Template, subjectID string) (*huella.Identification, error) {
	if len(probe) == 0 {
		return nil, huella.Errorf(huella.EUNPROCESSABLE, "the claimed subject cannot be verified: no sample of the encounter is usable")
	}
	claim, err := x.VerifySubject(ctx, probe, subjectID)
	switch huella.ErrorCode(err) {
	case "":
	case huella.ENOTFOUND, huella.EUNPROCESSABLE:
		return nil, huella.Errorf(huella.EUNPROCESSABLE, "the claimed subject cannot be verified: the encounter and the subject share no biometric to compare")
	default:
		return nil, err
	}
	id, err := x.Identify(ctx, probe)
	if err != nil {
		return nil, err
	}
	autoLink := fusion.LLRForFMR(x.AutoLinkFMR)
	// The other subjects the search found, best first (the claimed one is
	// claim, compared with all its templates).
	others := slices.DeleteFunc(id.Candidates, func(c *huella.Candidate) bool { return c.SubjectID == claim.SubjectID })
	watch := slices.DeleteFunc(id.Hits, func(h *huella.Hit) bool { return h.Kind == huella.HitDuplicate })
	if claim.LLR >= autoLink && (len(others) == 0 || others[0].LLR < autoLink) && !id.Partial {
		return &huella.Identification{Decision: huella.DecisionLinked, Candidates: append([]*huella.Candidate{claim}, others...), Hits: watch}, nil
	}
	hits := []*huella.Hit{{Kind: huella.HitDuplicate, CandidateSubjectID: claim.SubjectID, Candidate: claim, State: huella.HitPending}}
	for _, c := range others[:min(len(others), MaxHits-1)] {
		hits = append(hits, &huella.Hit{Kind: huella.HitDuplicate, CandidateSubjectID: c.SubjectID, Candidate: c, State: huella.HitPending})
	}
	return &huella.Identification{Decision: huella.DecisionReview, Candidates: others, Hits: append(hits, watch...), Partial: id.Partial}, nil
}
