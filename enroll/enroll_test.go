package enroll_test

import (
	"context"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// officer enrolls at MX-TAP.
var officer = &huella.User{ID: "usr_00000000000000000000000OFF", Name: "test.officer", Role: huella.RoleOfficer, Sites: []string{"MX-TAP"}}

func officerContext() context.Context {
	ctx := huella.NewContextWithActor(context.Background(), officer)
	return huella.NewContextWithPurpose(ctx, huella.PurposeEnforcement)
}

// irisRequest is an encounter at MX-TAP with the samples and images given.
func irisRequest(samples []*huella.Sample, images [][]byte) *enroll.Request {
	return &enroll.Request{Encounter: &huella.Encounter{
		SiteCode: "MX-TAP", CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Ana", Family: "Pérez"}}, Sex: huella.SexFemale},
		Samples:         samples,
	}, Images: images}
}

// gatedStore holds CreateEncounter until released, so that a test can
// enroll another encounter between an enrollment's search and its write.
type gatedStore struct {
	*sqlite.Store
	entered, release chan struct{}
}

func (g *gatedStore) CreateEncounter(ctx context.Context, e *huella.Encounter) error {
	close(g.entered)
	<-g.release
	return g.Store.CreateEncounter(ctx, e)
}

// TestConcurrentEnrollments enrolls one person twice at once: the second
// enrollment's search runs before the first is stored, the first's before
// the second is, so neither finds the other. The later one to reach the
// gallery must still put the pair before an examiner; two different
// people enrolled the same way must not be.
func TestConcurrentEnrollments(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	for _, tc := range []struct {
		name     string
		other    func(testing.TB) ([]*huella.Sample, [][]byte)
		wantHits int
	}{
		{"SamePerson", func(tb testing.TB) ([]*huella.Sample, [][]byte) { return irises(tb, "02") }, 1},
		{"OtherPerson", otherPersonIrises, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store := mustService(t)
			storetest.MustCreateSite(t, store, "MX-TAP")
			ctx := officerContext()

			gated := &gatedStore{Store: store, entered: make(chan struct{}), release: make(chan struct{})}
			held := *s
			held.Store = gated
			type result struct {
				e   *huella.Encounter
				err error
			}
			done := make(chan result)
			go func() {
				e, err := held.Enroll(ctx, irisRequest(irises(t, "01")))
				done <- result{e, err}
			}()
			<-gated.entered // searched, not stored
			first, err := s.Enroll(ctx, irisRequest(tc.other(t)))
			if err != nil {
				t.Fatal(err)
			}
			close(gated.release)
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			later := r.e
			if first.SubjectID == later.SubjectID {
				t.Fatalf("both encounters on subject %s: the searches were not concurrent", later.SubjectID)
			}

			hits, err := store.ListHits(adminContext(), huella.HitFilter{State: huella.HitPending, Kind: huella.HitDuplicate})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != tc.wantHits {
				t.Fatalf("%d pending duplicate hits, want %d: %+v", len(hits), tc.wantHits, hits)
			}
			if tc.wantHits == 0 {
				if later.Identification.Decision != huella.DecisionNewSubject {
					t.Errorf("decision %s, want %s", later.Identification.Decision, huella.DecisionNewSubject)
				}
				return
			}
			h := hits[0]
			if h.EncounterID != later.ID || h.SubjectID != later.SubjectID || h.CandidateSubjectID != first.SubjectID {
				t.Errorf("hit on encounter %s (subject %s) against %s; want %s (%s) against %s",
					h.EncounterID, h.SubjectID, h.CandidateSubjectID, later.ID, later.SubjectID, first.SubjectID)
			}
			if later.Identification.Decision != huella.DecisionReview || len(later.Identification.Hits) != 1 {
				t.Errorf("the officer is told %s with %d hits, want review with 1", later.Identification.Decision, len(later.Identification.Hits))
			}
			if first.Identification.Decision != huella.DecisionNewSubject || len(first.Identification.Hits) != 0 {
				t.Errorf("the earlier enrollment raised hits too: %s, %d hits", first.Identification.Decision, len(first.Identification.Hits))
			}
		})
	}
}

// otherPersonIrises returns the irises of the demo's second person.
func otherPersonIrises(tb testing.TB) ([]*huella.Sample, [][]byte) {
	tb.Helper()
	var samples []*huella.Sample
	var images [][]byte
	for _, f := range []struct {
		eye  huella.Eye
		file string
	}{{huella.EyeRight, "iris-002R01.jpg"}, {huella.EyeLeft, "iris-002L01.jpg"}} {
		samples = append(samples, &huella.Sample{Modality: huella.ModalityIris, Eye: f.eye})
		data, err := demo.Fixture(f.file)
		if err != nil {
			tb.Fatal(err)
		}
		images = append(images, data)
	}
	return samples, images
}
