package slap_test

import (
	"encoding/csv"
	"errors"
	"image"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/finger/slap"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	_ "github.com/huella-abis/huella/wsq" // WSQ slaps
)

// maxCentreError is the bound on a fingertip box centre's distance
// from its hand-labelled centre, in pixels.
const maxCentreError = 32

// label is one hand-labelled fingertip centre.
type label struct {
	file, image, capture string
	slap, finger         int
	x, y                 float64
}

func readLabels(tb testing.TB) []label {
	tb.Helper()
	f, err := os.Open("testdata/fingertips.csv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var out []label
	for _, row := range rows[1:] {
		n := func(s string) int {
			v, err := strconv.Atoi(s)
			if err != nil {
				tb.Fatalf("label %v: %v", row, err)
			}
			return v
		}
		out = append(out, label{file: row[0], image: row[1], slap: n(row[2]), finger: n(row[3]), x: float64(n(row[4])), y: float64(n(row[5])), capture: row[6]})
	}
	return out
}

// mustRecordImage returns the grey image and resolution of the record named
// name (<type>-<IDC>-<position>) in the ANSI/NIST file rel of the datasets.
func mustRecordImage(tb testing.TB, rel, name string) (*image.Gray, int) {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := ansinist.Read(data)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range tx.Records {
		if r.ImageName() != name {
			continue
		}
		img, ok := r.Image()
		if !ok {
			break
		}
		m, err := img.Decode()
		if err != nil {
			tb.Fatalf("%s %s: %v", rel, name, err)
		}
		return imgproc.ToGray(m), img.PPI
	}
	tb.Fatalf("%s: no image %s", rel, name)
	return nil, 0
}

func TestSegmentLabelled(t *testing.T) {
	labels := readLabels(t)
	type key struct{ file, image string }
	results := map[key]*slap.Result{}
	errs := map[string][]float64{}
	missed := map[string]int{}
	for _, l := range labels {
		k := key{l.file, l.image}
		res, ok := results[k]
		if !ok {
			img, ppi := mustRecordImage(t, l.file, l.image)
			var err error
			res, err = slap.Segment(img, l.slap, slap.Options{PPI: ppi})
			if err != nil {
				t.Errorf("%s %s: %v", l.file, l.image, err)
			}
			results[k] = res
		}
		found := false
		for _, tip := range res.Fingertips {
			if tip.Position != l.finger {
				continue
			}
			found = true
			d := math.Hypot(tip.Box.CenterX-l.x, tip.Box.CenterY-l.y)
			errs[l.capture] = append(errs[l.capture], d)
			if d > maxCentreError {
				t.Errorf("%s %s finger %d: centre (%.0f, %.0f) is %.0f px from the label, want ≤ %d", l.file, l.image, l.finger, tip.Box.CenterX, tip.Box.CenterY, d, maxCentreError)
			}
		}
		if !found {
			missed[l.capture]++
			t.Errorf("%s %s: finger %d not found", l.file, l.image, l.finger)
		}
	}
	for capture, e := range errs {
		sort.Float64s(e)
		var sum float64
		within := 0
		for _, d := range e {
			sum += d
			if d <= maxCentreError {
				within++
			}
		}
		mean := sum / float64(len(e))
		t.Logf("%s: %d fingertips found, %d missed; centre error mean %.1f px, max %.1f px; %d/%d within %d px", capture, len(e), missed[capture], mean, e[len(e)-1], within, len(e), maxCentreError)
	}
}

func TestSegmentMissingFinger(t *testing.T) {
	// The left slap of the amputation example has no ring finger.
	img, ppi := mustRecordImage(t, "ansinist/nist-reference/ansi-references/type-14-amp-nqm-utf8.an2", "14-3-14")
	res, err := slap.Segment(img, slap.LeftFour, slap.Options{PPI: ppi})
	if !errors.Is(err, slap.ErrFingerCount) {
		t.Fatalf("err = %v, want ErrFingerCount", err)
	}
	if got, want := len(res.Fingertips), 3; got != want {
		t.Errorf("got %d fingertips, want %d", got, want)
	}
	for _, tip := range res.Fingertips {
		if tip.Position != 0 {
			t.Errorf("fingertip named %d, want unnamed", tip.Position)
		}
	}
	// Told the ring finger is missing, it names the other three.
	res, err = slap.Segment(img, slap.LeftFour, slap.Options{PPI: ppi, Missing: []int{9}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, tip := range res.Fingertips {
		got = append(got, tip.Position)
	}
	if want := []int{10, 8, 7}; !slices.Equal(got, want) {
		t.Errorf("positions %v, want %v", got, want)
	}
}

func TestSegmentErrors(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 800, 600))
	if _, err := slap.Segment(img, 2, slap.Options{}); !errors.Is(err, slap.ErrNotSlap) {
		t.Errorf("position 2: err = %v, want ErrNotSlap", err)
	}
	if _, err := slap.Segment(img, slap.RightFour, slap.Options{PPI: 100}); !errors.Is(err, slap.ErrBadResolution) {
		t.Errorf("100 ppi: err = %v, want ErrBadResolution", err)
	}
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	if _, err := slap.Segment(img, slap.RightFour, slap.Options{}); !errors.Is(err, slap.ErrFingerCount) {
		t.Errorf("blank: err = %v, want ErrFingerCount", err)
	}
}

// TestSegmentedMatchRolled compares each fingertip cut from the ten-print
// card's slaps with the same finger's rolled impression on that card, beside
// the plain thumbs against the rolled thumbs (plain to rolled, unsegmented).
func TestSegmentedMatchRolled(t *testing.T) {
	const card = "ansinist/nist-reference/samples-nist/sample.an2"
	rolled := map[int]*finger.Candidate{}
	for p := 1; p <= 10; p++ {
		img, ppi := mustRecordImage(t, card, "4-"+strconv.Itoa(p)+"-"+strconv.Itoa(p))
		tpl, err := finger.Extract(img, finger.Options{PPI: ppi})
		if err != nil {
			t.Fatalf("rolled %d: %v", p, err)
		}
		rolled[p] = finger.Prepare(tpl)
	}
	threshold := finger.ThresholdForFMR(1e-4)
	var genuine, impostor []float64
	for _, s := range []struct {
		file, image string
		position    int
	}{
		{card, "4-14-13", slap.RightFour},
		{card, "4-11-14", slap.LeftFour},
		{"ansinist/nist-reference/ansi-references/type-14-amp-nqm-utf8.an2", "14-1-15", slap.BothThumbs},
	} {
		img, ppi := mustRecordImage(t, s.file, s.image)
		res, err := slap.Segment(img, s.position, slap.Options{PPI: ppi})
		if err != nil {
			t.Fatalf("%s: %v", s.image, err)
		}
		for _, tip := range res.Fingertips {
			tpl, err := finger.Extract(tip.Image, finger.Options{PPI: ppi})
			if err != nil {
				t.Errorf("%s finger %d: %v", s.image, tip.Position, err)
				genuine = append(genuine, 0)
				continue
			}
			probe := finger.Prepare(tpl)
			own, best, bestAt := 0.0, 0.0, 0
			for p, c := range rolled {
				score := finger.Compare(probe, c)
				if p == tip.Position {
					own = score
					genuine = append(genuine, score)
				} else {
					impostor = append(impostor, score)
					if score > best {
						best, bestAt = score, p
					}
				}
			}
			t.Logf("%s finger %d (%d minutiae) against its rolled print: %.3f; best other finger (%d): %.3f", s.image, tip.Position, len(tpl.Minutiae), own, bestAt, best)
			if own <= best {
				t.Errorf("%s finger %d: its rolled print scores %.3f, the rolled print of finger %d %.3f: the tip does not match its own finger best", s.image, tip.Position, own, bestAt, best)
			}
		}
	}
	var plain []float64
	for _, th := range []struct {
		name     string
		position int
	}{{"4-13-11", 1}, {"4-12-12", 6}} {
		img, ppi := mustRecordImage(t, card, th.name)
		tpl, err := finger.Extract(img, finger.Options{PPI: ppi})
		if err != nil {
			t.Fatalf("plain thumb %s: %v", th.name, err)
		}
		plain = append(plain, finger.Compare(finger.Prepare(tpl), rolled[th.position]))
	}
	above := 0
	for _, s := range genuine {
		if s >= threshold {
			above++
		}
	}
	sort.Float64s(genuine)
	sort.Float64s(impostor)
	t.Logf("segmented vs rolled: %d genuine, min %.3f median %.3f max %.3f, %d/%d at or above the FMR 1e-4 threshold %.3f; best impostor %.3f of %d",
		len(genuine), genuine[0], genuine[len(genuine)/2], genuine[len(genuine)-1], above, len(genuine), threshold, impostor[len(impostor)-1], len(impostor))
	t.Logf("plain thumbs vs rolled thumbs (unsegmented): %.3f, %.3f", plain[0], plain[1])
	// Eight of the ten tips reach the FMR 1e-4 threshold; the other two are
	// held back by the card itself, not by their boxes (BENCHMARKS.md, branch
	// slapmatch): the right index's tip lies under the card's punch hole, just
	// below its core, and the right little finger's slap holds only the apex
	// above its loop, which the rolled print barely shows. Seven with the
	// median above the threshold leave one tip of margin.
	if above < minTipsAboveFMR4 {
		t.Errorf("%d of %d segmented tips at or above the FMR 1e-4 threshold %.3f, want at least %d", above, len(genuine), threshold, minTipsAboveFMR4)
	}
	if median := genuine[len(genuine)/2]; median < threshold {
		t.Errorf("median segmented-vs-rolled score %.3f, want at least the FMR 1e-4 threshold %.3f", median, threshold)
	}
}

// minTipsAboveFMR4 is how many of the ten segmented tips of the card must
// score at or above the FMR 1e-4 threshold against their rolled prints.
const minTipsAboveFMR4 = 7

func BenchmarkSegment(b *testing.B) {
	img, ppi := mustRecordImage(b, "fingerprint/nbis/an2k/valid1.8.an2", "14-1-13")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := slap.Segment(img, slap.RightFour, slap.Options{PPI: ppi}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSegmentInfersPosition checks the guess of the hand on every
// four-finger and thumb slap of the labelled set (valid1.11's 15-5-13 is
// valid1.8's left slap again, JPEG-compressed), including the card's right
// slap (sample.an2 4-14-13), whose index was pressed lower than its little
// finger on a slanted hand, which the image heights of the ends alone
// guessed left.
func TestSegmentInfersPosition(t *testing.T) {
	for _, tc := range []struct {
		file, image string
		first       int
	}{
		{"fingerprint/nbis/an2k/valid1.8.an2", "14-1-13", 2},
		{"fingerprint/nbis/an2k/valid1.8.an2", "14-2-14", 10},
		{"fingerprint/nbis/an2k/valid1.8.an2", "14-3-15", 6},
		{"ansinist/nist-reference/samples-nist/sample.an2", "4-11-14", 10},
		{"ansinist/nist-reference/samples-nist/sample.an2", "4-14-13", 2},
		{"fingerprint/nbis/an2k/valid1.11.an2", "15-5-13", 10},
		{"ansinist/nist-reference/ansi-references/type-14-amp-nqm-utf8.an2", "14-1-15", 6},
	} {
		img, ppi := mustRecordImage(t, tc.file, tc.image)
		res, err := slap.Segment(img, 0, slap.Options{PPI: ppi})
		if err != nil {
			t.Errorf("%s: %v", tc.image, err)
			continue
		}
		if got := res.Fingertips[0].Position; got != tc.first {
			t.Errorf("%s: first fingertip is %d, want %d", tc.image, got, tc.first)
		}
	}
}
