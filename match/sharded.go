package match

import (
	"context"
	"time"

	"github.com/huella-abis/huella"
)

// ShardedSearch is the subject gallery held by matcher processes instead
// of this one (package shard, over NATS). Set as Identifier.Sharded, it
// takes the place of Subjects: the identifier then loads no subject
// gallery of its own, searches and verifies through it, and tells it of
// enrollments and purges.
type ShardedSearch interface {
	// Search returns up to k candidates whose fused LLR reaches minLLR,
	// best first, as gallery.Identify over every subject gives them.
	// complete is false when part of the gallery did not answer in time:
	// the candidates are then those of the parts that did.
	Search(ctx context.Context, probe []*huella.Template, k int, minLLR float64) (cands []*huella.Candidate, complete bool, err error)
	// Verify compares the probe with one subject (1:1). ENOTFOUND if no
	// matcher holds the subject; EUNAVAILABLE if its shard does not answer.
	Verify(ctx context.Context, probe []*huella.Template, subjectID string) (*huella.Candidate, error)
	// Add indexes stored templates (SubjectID set) on the matchers of
	// their subjects' shards, and returns once each shard acknowledged.
	// EUNAVAILABLE if one did not: its matchers get the templates from
	// the enrollment's gallery event all the same.
	Add(ctx context.Context, templates []*huella.Template) error
	// Remove drops subjects from every shard (a purge).
	Remove(ctx context.Context, subjects []string) error
}

// shardUpdateTimeout bounds how long an enrollment or purge waits for the
// matchers to acknowledge it.
const shardUpdateTimeout = 5 * time.Second

// SearchSubjects searches the probe against every enrolled subject: the
// subject gallery, or the matcher shards. A sharded search that part of
// the gallery did not answer is EUNAVAILABLE, never a shorter list: a
// caller that cannot mark its result partial must not take it as complete.
func (x *Identifier) SearchSubjects(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, error) {
	cands, complete, err := x.searchSubjects(ctx, probe, k, minLLR)
	if err == nil && !complete {
		return nil, huella.Errorf(huella.EUNAVAILABLE, "part of the subject gallery did not answer in time; try again")
	}
	return cands, err
}

// searchSubjects searches the subjects and reports whether every part of
// the gallery answered.
func (x *Identifier) searchSubjects(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, bool, error) {
	if x.Sharded != nil {
		return x.Sharded.Search(ctx, probe, k, minLLR)
	}
	cands, err := x.Subjects.Identify(ctx, probe, k, minLLR)
	return cands, true, err
}

// VerifySubject compares the probe with one enrolled subject (1:1), in
// the subject gallery or on the subject's shard. ENOTFOUND if the subject
// has no templates; EUNPROCESSABLE if the two share no modality.
func (x *Identifier) VerifySubject(ctx context.Context, probe []*huella.Template, subjectID string) (*huella.Candidate, error) {
	if x.Sharded != nil {
		return x.Sharded.Verify(ctx, probe, subjectID)
	}
	return x.Subjects.Verify(ctx, probe, subjectID)
}

// MergeSubjects makes from's templates count as into's after the store
// merged them. Matcher shards learn of merges from the merge's gallery
// event (docs/shards.md), a fraction of a second later: until then both
// subjects are candidates apart, which shows an examiner both rather than
// hiding one.
func (x *Identifier) MergeSubjects(from, into string) error {
	if x.Sharded != nil {
		return nil
	}
	return x.Subjects.Merge(from, into)
}

// UnmergeSubject separates a subject merged before (see MergeSubjects for
// the shards).
func (x *Identifier) UnmergeSubject(from string) error {
	if x.Sharded != nil {
		return nil
	}
	if err := x.Subjects.Unmerge(from); huella.ErrorCode(err) != huella.ENOTFOUND {
		return err
	}
	// The merge's gallery event filed from's templates under the survivor,
	// as the store does: the unmerge's event separates them.
	return nil
}
