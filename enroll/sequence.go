package enroll

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/finger/slap"
	"github.com/huella-abis/huella/imgproc"
)

// sequenceFMR is the false match rate at which a fingertip of a slap is
// taken to be the finger of another position's individual print.
const sequenceFMR = 1e-4

// fingertip is one finger cut from a slap of the encounter.
type fingertip struct {
	slap     int // the slap's FGP, 13-15
	position int
	image    []byte // PNG
	width    int
	height   int
	ppi      int
	device   string
}

// segmentSlaps cuts every slap of the encounter into its fingertips, named
// by position; fingers marked absent are left out of the naming. A slap
// that does not segment into every finger it should show is kept whole and
// adds no fingertip.
func segmentSlaps(e *huella.Encounter, images [][]byte) ([]fingertip, error) {
	var absent []int
	for _, a := range e.FingerAbsences {
		absent = append(absent, a.Position)
	}
	var tips []fingertip
	for i, smp := range e.Samples {
		if smp.Modality != huella.ModalityFinger || smp.Position < huella.SlapRightFour {
			continue
		}
		img, err := imgproc.DecodeGray(images[i])
		if err != nil {
			continue // inspect decoded it; a format only it reads stays whole
		}
		res, err := slap.Segment(img, smp.Position, slap.Options{PPI: smp.PPI, Missing: absent})
		if err != nil {
			continue
		}
		for _, ft := range res.Fingertips {
			var buf bytes.Buffer
			if err := png.Encode(&buf, ft.Image); err != nil {
				return nil, err
			}
			b := ft.Image.Bounds()
			tips = append(tips, fingertip{slap: smp.Position, position: ft.Position, image: buf.Bytes(),
				width: b.Dx(), height: b.Dy(), ppi: smp.PPI, device: smp.Device})
		}
	}
	return tips, nil
}

// addFingertips appends the fingertips as plain impressions of their
// positions, where the encounter has no plain print of that finger yet
// (the slaps themselves stay as they are), and returns the images with
// theirs appended and, by the index of each added sample, its slap's FGP.
func addFingertips(e *huella.Encounter, images [][]byte, tips []fingertip) ([][]byte, map[int]int) {
	from := map[int]int{}
	for _, t := range tips {
		taken := slices.ContainsFunc(e.Samples, func(s *huella.Sample) bool {
			return s.Modality == huella.ModalityFinger && s.Position == t.position && s.Impression == huella.ImpressionPlain
		})
		if taken {
			continue
		}
		from[len(e.Samples)] = t.slap
		e.Samples = append(e.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: t.position,
			Impression: huella.ImpressionPlain, Format: "png", Width: t.width, Height: t.height, PPI: t.ppi,
			Device: t.device, ImageRef: placeholderRef})
		images = append(images, t.image)
	}
	return images, from
}

// checkSequence compares each fingertip added from a slap (fromSlap: the
// added samples' indexes, with their slap's FGP) with the encounter's
// individual prints (rolled, or plain as given): a fingertip that matches
// the individual print of another position better than its own, above the
// threshold for sequenceFMR, is a swap of fingers or hands, refused
// (EINVALID) with the positions at fault. template gives sample i's
// prepared template, nil when it has none.
func checkSequence(e *huella.Encounter, fromSlap map[int]int, template func(i int) *finger.Candidate) error {
	type print struct {
		position int
		cand     *finger.Candidate
	}
	var individual []print
	for i, smp := range e.Samples {
		if _, derived := fromSlap[i]; derived || smp.Modality != huella.ModalityFinger ||
			smp.Position < huella.FingerRightThumb || smp.Position > huella.FingerLeftLittle {
			continue
		}
		if c := template(i); c != nil {
			individual = append(individual, print{smp.Position, c})
		}
	}
	if len(individual) == 0 {
		return nil
	}
	threshold := finger.ThresholdForFMR(sequenceFMR)
	var faults []string
	for i, slapFGP := range fromSlap {
		tip := template(i)
		if tip == nil {
			continue
		}
		position := e.Samples[i].Position
		own, best, bestAt := 0.0, 0.0, 0
		for _, p := range individual {
			score := finger.Compare(tip, p.cand)
			switch {
			case p.position == position:
				own = max(own, score)
			case score > best:
				best, bestAt = score, p.position
			}
		}
		if bestAt != 0 && best >= threshold && best > own {
			faults = append(faults, fmt.Sprintf("finger %d of slap %d matches the individual print given as position %d", position, slapFGP, bestAt))
		}
	}
	if len(faults) > 0 {
		slices.Sort(faults)
		return huella.Errorf(huella.EINVALID, "sequence check: %s; recapture or correct the positions", strings.Join(faults, "; "))
	}
	return nil
}

// extractedTemplate returns the prepared fingerprint template the
// identifier stored in sample s, nil when it has none.
func extractedTemplate(s *huella.Sample) *finger.Candidate {
	if s.Template == nil || s.Modality != huella.ModalityFinger {
		return nil
	}
	var t finger.Template
	if err := t.UnmarshalBinary(s.Template.Data); err != nil {
		return nil
	}
	return finger.Prepare(&t)
}

// localTemplates extracts, without an identifier, the templates the
// sequence check needs: the individual prints and the added fingertips,
// when the encounter has both. A fingertip below the finger engine's
// quality floor has none.
func localTemplates(e *huella.Encounter, images [][]byte, fromSlap map[int]int) func(i int) *finger.Candidate {
	cands := map[int]*finger.Candidate{}
	hasIndividual := slices.ContainsFunc(e.Samples, func(s *huella.Sample) bool {
		return s.Modality == huella.ModalityFinger && s.Position >= huella.FingerRightThumb && s.Position <= huella.FingerLeftLittle
	})
	for i, smp := range e.Samples {
		_, derived := fromSlap[i]
		if !derived && (!hasIndividual || len(fromSlap) == 0 || smp.Modality != huella.ModalityFinger ||
			smp.Position < huella.FingerRightThumb || smp.Position > huella.FingerLeftLittle) {
			continue
		}
		img, err := imgproc.DecodeGray(images[i])
		if err != nil {
			continue
		}
		t, err := finger.Extract(img, finger.Options{PPI: smp.PPI})
		if err != nil || t.Quality < engine.MinFingerQuality {
			continue
		}
		cands[i] = finger.Prepare(t)
	}
	return func(i int) *finger.Candidate { return cands[i] }
}

// dropUnusable removes the added fingertips that gave no template (their
// slap stays whole) and the recapture notes about them: the officer
// recaptures slaps, not fingertips cut from them.
func dropUnusable(e *huella.Encounter, images [][]byte, fromSlap map[int]int, template func(i int) *finger.Candidate, recapture []string) ([][]byte, []string) {
	if len(fromSlap) == 0 {
		return images, recapture
	}
	first := len(e.Samples)
	for i := range fromSlap {
		first = min(first, i)
	}
	var samples []*huella.Sample
	var kept [][]byte
	for i, smp := range e.Samples {
		if _, derived := fromSlap[i]; !derived || template(i) != nil {
			samples, kept = append(samples, smp), append(kept, images[i])
		}
	}
	e.Samples = samples
	recapture = slices.DeleteFunc(recapture, func(note string) bool {
		var i int
		_, err := fmt.Sscanf(note, "samples[%d]", &i)
		return err == nil && i >= first
	})
	return kept, recapture
}
