package enroll

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"

	"github.com/huella-abis/huella"
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
	probe    *finger.Candidate
}

// segmentSlaps cuts every slap of the encounter into its fingertips and
// runs the sequence check: when the encounter also holds individual prints
// (rolled or plain), a fingertip that matches the individual print of
// another position better than its own, above the threshold for
// sequenceFMR, is a swap of fingers or hands, refused (EINVALID) with the
// positions at fault before anything is stored. It returns the fingertips
// that gave a template, to enroll as plain impressions. A slap that does
// not segment is kept as it is.
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
			tpl, err := finger.Extract(ft.Image, finger.Options{PPI: smp.PPI})
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, ft.Image); err != nil {
				return nil, err
			}
			b := ft.Image.Bounds()
			tips = append(tips, fingertip{slap: smp.Position, position: ft.Position, image: buf.Bytes(),
				width: b.Dx(), height: b.Dy(), ppi: smp.PPI, device: smp.Device, probe: finger.Prepare(tpl)})
		}
	}
	if len(tips) == 0 {
		return nil, nil
	}
	individual := map[int][]*finger.Candidate{} // by position 1-10
	for i, smp := range e.Samples {
		if smp.Modality != huella.ModalityFinger || smp.Position < huella.FingerRightThumb || smp.Position > huella.FingerLeftLittle {
			continue
		}
		img, err := imgproc.DecodeGray(images[i])
		if err != nil {
			continue
		}
		tpl, err := finger.Extract(img, finger.Options{PPI: smp.PPI})
		if err != nil {
			continue
		}
		individual[smp.Position] = append(individual[smp.Position], finger.Prepare(tpl))
	}
	threshold := finger.ThresholdForFMR(sequenceFMR)
	var faults []string
	for _, t := range tips {
		own, best, bestAt := 0.0, 0.0, 0
		for pos, cands := range individual {
			for _, c := range cands {
				score := finger.Compare(t.probe, c)
				switch {
				case pos == t.position:
					own = max(own, score)
				case score > best:
					best, bestAt = score, pos
				}
			}
		}
		if bestAt != 0 && best >= threshold && best > own {
			faults = append(faults, fmt.Sprintf("finger %d of slap %d matches the individual print given as position %d", t.position, t.slap, bestAt))
		}
	}
	if len(faults) > 0 {
		slices.Sort(faults)
		return nil, huella.Errorf(huella.EINVALID, "sequence check: %s; recapture or correct the positions", strings.Join(faults, "; "))
	}
	return tips, nil
}

// addFingertips appends the fingertips as plain impressions of their
// positions, where the encounter has no plain print of that finger yet;
// the slaps themselves stay as they are.
func addFingertips(e *huella.Encounter, images [][]byte, tips []fingertip) [][]byte {
	for _, t := range tips {
		taken := slices.ContainsFunc(e.Samples, func(s *huella.Sample) bool {
			return s.Modality == huella.ModalityFinger && s.Position == t.position && s.Impression == huella.ImpressionPlain
		})
		if taken || t.position == 0 {
			continue
		}
		e.Samples = append(e.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: t.position,
			Impression: huella.ImpressionPlain, Format: "png", Width: t.width, Height: t.height, PPI: t.ppi, Device: t.device, ImageRef: placeholderRef})
		images = append(images, t.image)
	}
	return images
}
