package finger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iso19794"
)

// Sample is one image of an evaluation set, named <finger>_<impression>.<ext>.
type Sample struct {
	Path       string
	Finger     string
	Impression int
	Template   *Template
	Err        error
	Candidate  *Candidate
	record     bool
}

// Report holds the figures of one evaluation run (FVC protocol plus the
// all-pairs impostors).
type Report struct {
	Samples          []*Sample
	FTE              float64
	Genuine          []float64
	Impostor         []float64 // FVC: first impression against first impression
	ImpostorAll      []float64 // every cross-finger pair
	ExtractMS        float64   // mean per image, one core
	ComparePerSecond float64   // 1:N form, one core
	// Quality-sorted genuine/impostor scores for the error-versus-reject curve.
	genuinePairs, impostorPairs [][2]int
}

var sampleName = regexp.MustCompile(`^([^_]+)_(\d+)\.((?i:tif|tiff|png|jpg|jpeg|bmp|pgm|iso|fmr|ist))$`)

// isRecord tells finger minutiae records (matcher-only evaluation) from images.
func isRecord(ext string) bool {
	switch strings.ToLower(ext) {
	case "iso", "fmr", "ist":
		return true
	}
	return false
}

var errRecord = errors.New("finger: unreadable minutiae record")

// Evaluate extracts every image of dir (at ppi, 0 meaning 500) on one core,
// then scores all pairs in the 1:N form on one core. Finger minutiae records
// (.iso, .fmr, .ist: ISO/IEC 19794-2 or ANSI INCITS 378) are read instead of
// extracted, for a matcher-only evaluation.
func Evaluate(ctx context.Context, dir string, ppi int) (*Report, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("finger: evaluate: %w", err)
	}
	r := &Report{}
	for _, e := range entries {
		m := sampleName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		imp, _ := strconv.Atoi(m[2])
		r.Samples = append(r.Samples, &Sample{Path: filepath.Join(dir, e.Name()), Finger: m[1], Impression: imp, record: isRecord(m[3])})
	}
	if len(r.Samples) == 0 {
		return nil, fmt.Errorf("finger: evaluate: no <finger>_<impression> images in %s", dir)
	}
	sort.Slice(r.Samples, func(i, j int) bool {
		a, b := r.Samples[i], r.Samples[j]
		if a.Finger != b.Finger {
			return a.Finger < b.Finger
		}
		return a.Impression < b.Impression
	})
	// Timings count this thread's CPU time: one core's work, even when the
	// machine is shared.
	var clock threadClock
	clock.lock()
	defer clock.unlock()
	var extractTime time.Duration
	failed, images := 0, 0
	for i, s := range r.Samples {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		evaluation.Progress(ctx, "extract", i, len(r.Samples))
		data, err := os.ReadFile(s.Path)
		if err != nil {
			return nil, fmt.Errorf("finger: evaluate: %w", err)
		}
		if s.record {
			s.Err = errRecord
			if rec, err := iso19794.DecodeFingerMinutiae(data); err == nil {
				s.Template, s.Err = TemplateFromRecord(rec, 0)
			}
			if s.Err != nil {
				failed++
				continue
			}
			s.Candidate = Prepare(s.Template)
			continue
		}
		images++
		img, err := imgproc.DecodeGray(data)
		if err != nil {
			s.Err = err
			failed++
			continue
		}
		start := clock.now()
		s.Template, s.Err = Extract(img, Options{PPI: ppi})
		extractTime += clock.now() - start
		if s.Err != nil {
			failed++
			continue
		}
		s.Candidate = Prepare(s.Template)
	}
	evaluation.Progress(ctx, "extract", len(r.Samples), len(r.Samples))
	r.FTE = float64(failed) / float64(len(r.Samples))
	if images > 0 {
		r.ExtractMS = float64(extractTime.Microseconds()) / 1000 / float64(images)
	}

	// 1:N form: each probe against the gallery of the samples after it.
	n := len(r.Samples)
	scores := make([][]float64, n)
	compared := 0
	start := clock.now()
	for i := 0; i < n; i++ {
		evaluation.Progress(ctx, "compare", i, n)
		scores[i] = make([]float64, n)
		if r.Samples[i].Candidate == nil {
			continue
		}
		for j := i + 1; j < n; j++ {
			if c := r.Samples[j].Candidate; c != nil {
				scores[i][j] = Compare(r.Samples[i].Candidate, c)
				compared++
			}
		}
	}
	if el := (clock.now() - start).Seconds(); el > 0 {
		r.ComparePerSecond = float64(compared) / el
	}
	evaluation.Progress(ctx, "compare", n, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a, b := r.Samples[i], r.Samples[j]
			s := scores[i][j]
			if a.Candidate == nil || b.Candidate == nil {
				s = math.Inf(-1)
			}
			switch {
			case a.Finger == b.Finger:
				r.Genuine = append(r.Genuine, s)
				r.genuinePairs = append(r.genuinePairs, [2]int{i, j})
			default:
				r.ImpostorAll = append(r.ImpostorAll, s)
				r.impostorPairs = append(r.impostorPairs, [2]int{i, j})
				if a.Impression == r.first(a.Finger) && b.Impression == r.first(b.Finger) {
					r.Impostor = append(r.Impostor, s)
				}
			}
		}
	}
	return r, nil
}

// GenuinePairs returns, for each score of Genuine in order, the indices in
// Samples of the two samples compared (the first is the probe); a failed
// genuine pair is then named by its images.
func (r *Report) GenuinePairs() [][2]int { return r.genuinePairs }

// ImpostorPairs is GenuinePairs for the scores of ImpostorAll.
func (r *Report) ImpostorPairs() [][2]int { return r.impostorPairs }

// first returns the lowest impression number of a finger.
func (r *Report) first(finger string) int {
	best := -1
	for _, s := range r.Samples {
		if s.Finger == finger && (best < 0 || s.Impression < best) {
			best = s.Impression
		}
	}
	return best
}

// RejectCurvePoint is FNMR at a fixed FMR after discarding the lowest-quality
// fraction of the images.
type RejectCurvePoint struct {
	Rejected float64
	FNMR     float64
}

// RejectCurve returns the error-versus-reject curve: FNMR at fmr (all-pairs
// impostors) after discarding the given fractions of lowest-quality images.
func (r *Report) RejectCurve(fmr float64, fractions []float64) []RejectCurvePoint {
	n := len(r.Samples)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	quality := func(i int) int {
		if t := r.Samples[i].Template; t != nil && r.Samples[i].Err == nil {
			return t.Quality
		}
		return -1
	}
	sort.SliceStable(order, func(a, b int) bool { return quality(order[a]) < quality(order[b]) })
	var out []RejectCurvePoint
	for _, f := range fractions {
		drop := make([]bool, n)
		for _, i := range order[:int(math.Round(f*float64(n)))] {
			drop[i] = true
		}
		var s evaluation.Scores
		for k, p := range r.genuinePairs {
			if !drop[p[0]] && !drop[p[1]] {
				s.Genuine = append(s.Genuine, r.Genuine[k])
			}
		}
		for k, p := range r.impostorPairs {
			if !drop[p[0]] && !drop[p[1]] {
				s.Impostor = append(s.Impostor, r.ImpostorAll[k])
			}
		}
		out = append(out, RejectCurvePoint{Rejected: f, FNMR: s.FNMRAtFMR(fmr)})
	}
	return out
}
