package tattoo

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/huella-abis/huella/evaluation"
)

// EvalResult holds the figures of the BIVTatt identification protocol, with
// the JSON keys of the "huella eval tattoo" contract.
type EvalResult struct {
	Gallery       int     `json:"gallery"`
	ProbesVariant int     `json:"probes_variant"`
	ProbesReal    int     `json:"probes_real"`
	Rank1Variant  float64 `json:"rank1_variant"`
	Rank10Variant float64 `json:"rank10_variant"`
	Rank1Real     float64 `json:"rank1_real"`
	Rank10Real    float64 `json:"rank10_real"`
	ExtractMS     float64 `json:"extract_ms"`
	SearchMS      float64 `json:"search_ms"`
	// Folds is the number of cross-validation folds (0: one pass with the
	// given or shipped vocabulary).
	Folds int `json:"folds"`
	// FailedExtractions counts images without a template (not in the contract).
	FailedExtractions int `json:"failed_extractions"`
}

// ErrBadOption is returned by EvaluateBIVTatt for options it cannot honour.
var ErrBadOption = errors.New("tattoo: bad evaluation option")

// EvalOptions configures EvaluateBIVTatt.
type EvalOptions struct {
	// Distractors is a folder of whole images added to the gallery.
	Distractors string
	// Workers extract templates in parallel (default GOMAXPROCS). Times are
	// the CPU time of the working thread (one core), so a busy machine does
	// not inflate them; garbage collection on other threads is not counted.
	Workers int
	// Shortlist overrides the search shortlist (0 = default, <0 = verify all).
	Shortlist int
	// GlobalShortlist overrides the number of images the global descriptor
	// adds to the shortlist (0 = default, <0 = none).
	GlobalShortlist int
	// Vocabulary overrides DefaultVocabulary (ignored when Folds > 1).
	Vocabulary *Vocabulary
	// Folds, when 2 or more, runs the cross-validated protocol: see
	// EvaluateBIVTatt.
	Folds int
	// Log, when set, receives progress lines and each missed probe's name.
	Log io.Writer
	// TraceDir, when set, receives for every real-photo probe a PNG of the
	// probe beside its top candidate with keypoints and verified matches.
	TraceDir string
}

// EvaluateBIVTatt runs the identification protocol on a dataset in the
// BIVTatt layout. Probes are (a) every generated variant of a subject with
// two or more original photos and (b) every original photo of such a
// subject; the gallery is every original except the probe's own source
// photo, plus every distractor. A probe is a hit at rank k when one of the
// first k subjects returned is its subject. Variants of subjects with a
// single photo have no mate in that gallery and are not probes (the
// dataset's own protocol).
//
// With opt.Folds = K > 1 the subjects are split into K folds and, for each
// fold, a vocabulary is trained (TrainDefaultVocabulary) on the originals
// of the other folds' subjects and the distractors, the gallery is indexed
// with it and the fold's probes are searched; the figures are pooled over
// the folds. No probe is then searched with words learnt from its own
// subject's photos.
func EvaluateBIVTatt(ctx context.Context, dir string, opt EvalOptions) (EvalResult, error) {
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
	if opt.Folds < 0 || opt.Folds == 1 {
		return EvalResult{}, fmt.Errorf("%w: %d folds, want 0 or at least 2", ErrBadOption, opt.Folds)
	}
	images, err := ReadBIVTatt(dir)
	if err != nil {
		return EvalResult{}, err
	}
	if len(images) == 0 {
		return EvalResult{}, fmt.Errorf("tattoo: no images in %s", dir)
	}
	var distractors []DatasetImage
	if opt.Distractors != "" {
		if distractors, err = ReadImageDir(opt.Distractors); err != nil {
			return EvalResult{}, err
		}
	}
	originals := map[string]int{} // subject -> number of original photos
	for _, im := range images {
		if im.Variant == "" {
			originals[im.Subject]++
		}
	}
	all := append(append([]DatasetImage(nil), images...), distractors...)
	logf("extracting %d images", len(all))
	templates, extractMS, failed, err := extractAll(ctx, all, opt.Workers)
	if err != nil {
		return EvalResult{}, err
	}
	res := EvalResult{Gallery: len(images) - countVariants(images) + len(distractors) - 1, ExtractMS: extractMS, FailedExtractions: failed, Folds: opt.Folds}
	sourcePath := map[string]string{}
	for _, im := range images {
		if im.Variant == "" {
			sourcePath[im.Source()] = im.Path
		}
	}
	folds := max(opt.Folds, 1)
	foldOf := subjectFolds(originals, folds)
	var hits [2][2]int // [variant/real][rank1/rank10]
	var searchTime time.Duration
	searches := 0
	for fold := range folds {
		vocab := opt.Vocabulary
		if opt.Folds > 1 {
			var train [][]Descriptor
			for i, im := range all {
				if im.Variant == "" && templates[i] != nil && (im.Subject == "" || foldOf[im.Subject] != fold) {
					train = append(train, templates[i].Descriptors)
				}
			}
			logf("fold %d: training the vocabulary on %d images", fold+1, len(train))
			if vocab, err = TrainDefaultVocabulary(train); err != nil {
				return EvalResult{}, err
			}
		}
		gallery := NewGallery(vocab)
		for i, im := range all {
			if im.Variant != "" || templates[i] == nil {
				continue
			}
			id, subject := im.Path, im.Subject
			if subject == "" {
				subject = "distractor:" + filepath.Base(im.Path)
			}
			if err := gallery.Add(id, subject, templates[i]); err != nil {
				return EvalResult{}, err
			}
		}
		stage := "search"
		if folds > 1 {
			stage = fmt.Sprintf("search, fold %d of %d", fold+1, folds)
		}
		unlock := lockThread()
		for i, im := range images {
			if err := ctx.Err(); err != nil {
				unlock()
				return EvalResult{}, err
			}
			evaluation.Progress(ctx, stage, i, len(images))
			if im.Subject == "" || originals[im.Subject] < 2 || foldOf[im.Subject] != fold {
				continue
			}
			kind := 1
			if im.Variant != "" {
				kind = 0
				res.ProbesVariant++
			} else {
				res.ProbesReal++
			}
			if templates[i] == nil {
				logf("miss %s: no template", filepath.Base(im.Path))
				continue
			}
			own := sourcePath[im.Source()]
			start := threadCPUTime()
			subjects := gallery.SearchSubjects(templates[i], SearchOptions{
				Limit:           10,
				Shortlist:       opt.Shortlist,
				GlobalShortlist: opt.GlobalShortlist,
				Exclude:         func(id string) bool { return id == own },
			})
			searchTime += threadCPUTime() - start
			searches++
			rank := 0
			for r, s := range subjects {
				if s.Subject == im.Subject && s.Score > 0 {
					rank = r + 1
					break
				}
			}
			if opt.TraceDir != "" && kind == 1 && len(subjects) > 0 {
				if err := traceProbe(opt.TraceDir, im.Path, templates[i], subjects[0].Images[0]); err != nil {
					unlock()
					return EvalResult{}, err
				}
			}
			if rank == 1 {
				hits[kind][0]++
			}
			if rank >= 1 && rank <= 10 {
				hits[kind][1]++
			}
			if rank != 1 {
				top, mate := "", 0.0
				if len(subjects) > 0 {
					top = fmt.Sprintf("top %s score %.1f", filepath.Base(subjects[0].Images[0].ID), subjects[0].Score)
				}
				if rank > 0 {
					mate = subjects[rank-1].Score
				}
				logf("miss %s: rank %d (score %.1f), %s", filepath.Base(im.Path), rank, mate, top)
			}
		}
		unlock()
		evaluation.Progress(ctx, stage, len(images), len(images))
	}
	rate := func(h, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(h) / float64(n)
	}
	res.Rank1Variant = rate(hits[0][0], res.ProbesVariant)
	res.Rank10Variant = rate(hits[0][1], res.ProbesVariant)
	res.Rank1Real = rate(hits[1][0], res.ProbesReal)
	res.Rank10Real = rate(hits[1][1], res.ProbesReal)
	if searches > 0 {
		res.SearchMS = float64(searchTime.Microseconds()) / 1000 / float64(searches)
	}
	return res, nil
}

// subjectFolds assigns every subject to one of k folds: the subjects with
// two or more originals (those that have probes) are dealt round-robin in
// order first, so every fold gets its share of probes, then the others.
func subjectFolds(originals map[string]int, k int) map[string]int {
	var probed, rest []string
	for s, n := range originals {
		if n >= 2 {
			probed = append(probed, s)
		} else {
			rest = append(rest, s)
		}
	}
	bySubject := func(a []string) {
		sort.Slice(a, func(i, j int) bool {
			if len(a[i]) != len(a[j]) {
				return len(a[i]) < len(a[j]) // numeric order for numeric IDs
			}
			return a[i] < a[j]
		})
	}
	bySubject(probed)
	bySubject(rest)
	out := make(map[string]int, len(originals))
	for i, s := range append(probed, rest...) {
		out[s] = i % k
	}
	return out
}

func countVariants(images []DatasetImage) int {
	n := 0
	for _, im := range images {
		if im.Variant != "" {
			n++
		}
	}
	return n
}

// extractAll extracts every image's template; a failed extraction leaves
// nil. It returns the mean milliseconds per image (each on one core).
func extractAll(ctx context.Context, images []DatasetImage, workers int) ([]*Template, float64, int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]*Template, len(images))
	durations := make([]time.Duration, len(images))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer lockThread()()
			for i := range next {
				evaluation.Progress(ctx, "extract", i, len(images))
				data, err := os.ReadFile(images[i].Path)
				if err != nil {
					continue
				}
				start := threadCPUTime()
				t, err := extractDatasetImage(data, images[i].Box)
				durations[i] = threadCPUTime() - start
				if err == nil {
					out[i] = t
				}
			}
		}()
	}
	for i := range images {
		select {
		case next <- i:
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return nil, 0, 0, ctx.Err()
		}
	}
	close(next)
	wg.Wait()
	evaluation.Progress(ctx, "extract", len(images), len(images))
	var total time.Duration
	failed := 0
	for i, d := range durations {
		total += d
		if out[i] == nil {
			failed++
		}
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	return out, float64(total.Microseconds()) / 1000 / float64(len(images)), failed, nil
}

// extractDatasetImage decodes and extracts one dataset image (decoding is
// part of the timed extraction).
func extractDatasetImage(data []byte, box image.Rectangle) (*Template, error) {
	return ExtractBytes(data, box)
}

// traceProbe writes the probe and its top candidate side by side with the
// verified matches drawn, as <probe>--<candidate>.png in dir.
func traceProbe(dir, probePath string, probe *Template, top Candidate) error {
	load := func(path string) (image.Image, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return DecodeImage(data)
	}
	a, err := load(probePath)
	if err != nil {
		return err
	}
	b, err := load(top.ID)
	if err != nil {
		return err
	}
	if top.Template == nil {
		return nil
	}
	stem := func(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }
	f, err := os.Create(filepath.Join(dir, stem(probePath)+"--"+stem(top.ID)+".png"))
	if err != nil {
		return fmt.Errorf("tattoo: trace: %w", err)
	}
	if err := png.Encode(f, DrawMatches(a, b, probe, top.Template, top.Comparison)); err != nil {
		f.Close()
		return fmt.Errorf("tattoo: trace: %w", err)
	}
	return f.Close()
}
