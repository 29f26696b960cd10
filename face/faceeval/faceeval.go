// Package faceeval measures the face engine on a labelled image set: LFW
// pairs files, or a <identity>/<image> directory scored all-pairs. It holds
// the logic of "huella eval face" so the command stays thin.
package faceeval

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/face/tfjs"
)

// Config says what to evaluate.
type Config struct {
	// Dir is the image root: the LFW image directory with Pairs, else a
	// directory of <identity>/<image> files.
	Dir string
	// Pairs is an LFW pairs file; empty means all pairs of Dir.
	Pairs string
	// MaxPairs, when > 0, keeps only the first MaxPairs genuine and the
	// first MaxPairs impostor pairs (quick runs).
	MaxPairs int
	// Workers is the number of images extracted at once, each on one core
	// (≤ 0: all CPUs).
	Workers int
	// Log receives the counts of images and comparisons; nil discards
	// them. Progress goes to the context's reporter (evaluation.WithProgress).
	Log io.Writer
}

// Result holds the measured figures.
type Result struct {
	// Images is the number of distinct images extracted.
	Images int
	// Failed is the number of images without a usable face (FTE numerator).
	Failed int
	// Scores are cosine similarities (−Inf when an image failed).
	Scores evaluation.Scores
	// Accuracy is the best single-threshold accuracy, or with LFW folds the
	// mean over folds of the accuracy at the threshold best on the others.
	Accuracy float64
	// Folds is the number of folds Accuracy was computed over.
	Folds int
	// ExtractMS is the mean CPU time of one extraction (detect, landmarks,
	// align, describe) on one core, in milliseconds; wall time where the
	// platform has no per-thread clock.
	ExtractMS float64
	// ExtractWallMS is the mean wall time of one extraction in one worker.
	ExtractWallMS float64
	// ComparePerSecondCore is the 1:N scan rate of one core.
	ComparePerSecondCore float64
}

// FTE is the failure-to-enrol rate.
func (r *Result) FTE() float64 {
	if r.Images == 0 {
		return 0
	}
	return float64(r.Failed) / float64(r.Images)
}

type comparison struct {
	a, b    int
	genuine bool
	fold    int
}

// Run extracts every image the protocol needs and scores the comparisons.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	images, comps, folds, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "face: %d images, %d comparisons\n", len(images), len(comps))
	descs, cpu, wall, err := extractAll(ctx, cfg, images, logw)
	if err != nil {
		return nil, err
	}
	res := &Result{Images: len(images), Folds: folds}
	for _, d := range descs {
		if d == nil {
			res.Failed++
		}
	}
	res.ExtractMS = float64(cpu) / 1e6 / float64(len(images))
	if !haveThreadCPU {
		res.ExtractMS = float64(wall) / 1e6 / float64(len(images))
	}
	res.ExtractWallMS = float64(wall) / 1e6 / float64(len(images))
	scores := make([]float64, len(comps))
	for i, c := range comps {
		s := math.Inf(-1)
		if descs[c.a] != nil && descs[c.b] != nil {
			s = float64(face.Similarity(descs[c.a], descs[c.b]))
		}
		scores[i] = s
		if c.genuine {
			res.Scores.Genuine = append(res.Scores.Genuine, s)
		} else {
			res.Scores.Impostor = append(res.Scores.Impostor, s)
		}
	}
	res.Accuracy = accuracy(comps, scores, folds)
	res.ComparePerSecondCore = measureSearch(descs)
	return res, nil
}

// plan lists the images and comparisons of the protocol.
func plan(cfg Config) ([]string, []comparison, int, error) {
	index := map[string]int{}
	var images []string
	add := func(p string) int {
		if i, ok := index[p]; ok {
			return i
		}
		index[p] = len(images)
		images = append(images, p)
		return len(images) - 1
	}
	var comps []comparison
	if cfg.Pairs != "" {
		f, err := os.Open(cfg.Pairs)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("faceeval: %w", err)
		}
		defer f.Close()
		pairs, folds, err := ReadPairs(f)
		if err != nil {
			return nil, nil, 0, err
		}
		gen, imp := 0, 0
		for _, p := range pairs {
			if cfg.MaxPairs > 0 && ((p.Genuine && gen >= cfg.MaxPairs) || (!p.Genuine && imp >= cfg.MaxPairs)) {
				continue
			}
			if p.Genuine {
				gen++
			} else {
				imp++
			}
			comps = append(comps, comparison{a: add(filepath.Join(cfg.Dir, p.A)), b: add(filepath.Join(cfg.Dir, p.B)), genuine: p.Genuine, fold: p.Fold})
		}
		if cfg.MaxPairs > 0 {
			folds = 1
		}
		return images, comps, folds, nil
	}
	ids, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("faceeval: %w", err)
	}
	var identity []string
	for _, id := range ids {
		if !id.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(cfg.Dir, id.Name()))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("faceeval: %w", err)
		}
		for _, f := range files {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if f.IsDir() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png") {
				continue
			}
			add(filepath.Join(cfg.Dir, id.Name(), f.Name()))
			identity = append(identity, id.Name())
		}
	}
	if len(images) < 2 {
		return nil, nil, 0, fmt.Errorf("faceeval: %s: fewer than two images in <identity>/<image> layout", cfg.Dir)
	}
	for i := range images {
		for j := i + 1; j < len(images); j++ {
			comps = append(comps, comparison{a: i, b: j, genuine: identity[i] == identity[j]})
		}
	}
	return images, comps, 1, nil
}

// extractAll extracts every image, each worker on one locked thread, and
// returns the descriptors (nil for failures) with the summed thread CPU
// time and worker wall time.
func extractAll(ctx context.Context, cfg Config, images []string, logw io.Writer) ([][]float32, time.Duration, time.Duration, error) {
	models, err := face.LoadModels()
	if err != nil {
		return nil, 0, 0, err
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	descs := make([][]float32, len(images))
	var next, done atomic.Int64
	var cpu, wall atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			x := &face.Extractor{Models: models, Exec: tfjs.Exec{Workers: 1}}
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(images) {
					return
				}
				t0, c0 := time.Now(), threadCPU()
				descs[i] = extractOne(x, images[i])
				cpu.Add(int64(threadCPU() - c0))
				wall.Add(int64(time.Since(t0)))
				evaluation.Progress(ctx, "extract", int(done.Add(1)), len(images))
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	return descs, time.Duration(cpu.Load()), time.Duration(wall.Load()), nil
}

// extractOne returns the descriptor of the face in the image at path, or
// nil when there is none (the image counts as a failure to enrol).
func extractOne(x *face.Extractor, path string) []float32 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	img, err := face.DecodeRGB(f)
	if err != nil {
		return nil
	}
	fc, err := x.Extract(img)
	if err != nil {
		return nil
	}
	return fc.Descriptor
}

// accuracy is the verification accuracy: with one fold, at the best single
// threshold; with several, the mean over folds of the accuracy at the
// threshold that is best on the other folds (the LFW protocol).
func accuracy(comps []comparison, scores []float64, folds int) float64 {
	if folds <= 1 {
		_, acc := bestThreshold(comps, scores, func(int) bool { return true })
		return acc
	}
	var sum float64
	for k := 0; k < folds; k++ {
		t, _ := bestThreshold(comps, scores, func(i int) bool { return comps[i].fold != k })
		sum += accuracyAt(comps, scores, t, func(i int) bool { return comps[i].fold == k })
	}
	return sum / float64(folds)
}

func accuracyAt(comps []comparison, scores []float64, t float64, use func(int) bool) float64 {
	right, n := 0, 0
	for i, c := range comps {
		if !use(i) {
			continue
		}
		n++
		if (scores[i] >= t) == c.genuine {
			right++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(right) / float64(n)
}

// bestThreshold tries every score as threshold (accept ≥ t) and returns the
// most accurate one, halfway to the next score below for stability.
func bestThreshold(comps []comparison, scores []float64, use func(int) bool) (float64, float64) {
	type sc struct {
		s float64
		g bool
	}
	var all []sc
	genuine := 0
	for i, c := range comps {
		if use(i) {
			all = append(all, sc{scores[i], c.genuine})
			if c.genuine {
				genuine++
			}
		}
	}
	if len(all) == 0 {
		return 0, 0
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	// Threshold below all[i]: all[:i] rejected, all[i:] accepted.
	bestT, bestRight := math.Inf(-1), genuine
	rejectedImpostors, rejectedGenuine := 0, 0
	for i := 1; i <= len(all); i++ {
		if all[i-1].g {
			rejectedGenuine++
		} else {
			rejectedImpostors++
		}
		if i < len(all) && all[i].s == all[i-1].s {
			continue
		}
		right := rejectedImpostors + genuine - rejectedGenuine
		if right > bestRight {
			bestRight = right
			if i < len(all) {
				bestT = (all[i-1].s + all[i].s) / 2
			} else {
				bestT = math.Inf(1)
			}
		}
	}
	return bestT, float64(bestRight) / float64(len(all))
}

// searchGallerySize is the number of entries the 1:N scan rate is measured on.
const searchGallerySize = 200_000

// measureSearch times a one-core scan of a gallery built from the
// extracted descriptors (repeated and perturbed to searchGallerySize).
func measureSearch(descs [][]float32) float64 {
	var real [][]float32
	for _, d := range descs {
		if d != nil {
			real = append(real, d)
		}
	}
	if len(real) == 0 {
		return 0
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var g face.Gallery
	v := make([]float32, face.DescriptorSize)
	for i := 0; i < searchGallerySize; i++ {
		src := real[i%len(real)]
		var n float64
		for j := range v {
			v[j] = src[j] + float32(rng.NormFloat64()*0.02)
			n += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(n))
		}
		if _, err := g.Add(v); err != nil {
			return 0
		}
	}
	p, err := face.NewProbe(real[0])
	if err != nil {
		return 0
	}
	out := make([]float32, g.Len())
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g.Scores(p, out, 1) // warm up
	start, c0, scans := time.Now(), threadCPU(), 0
	for time.Since(start) < time.Second || scans < 3 {
		g.Scores(p, out, 1)
		scans++
	}
	elapsed := time.Since(start)
	if c := threadCPU() - c0; haveThreadCPU && c > 0 {
		elapsed = c
	}
	return float64(scans*g.Len()) / elapsed.Seconds()
}
