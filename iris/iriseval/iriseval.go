// Package iriseval runs the iris engine over a directory of eye images with
// the protocol of ../shared/datasets/README.md: genuine = every pair of
// images of one eye, impostor = every pair of images of different eyes.
// It is the logic behind "huella eval iris".
package iriseval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iris"
	"golang.org/x/sys/unix"
)

// Config says which images to evaluate and how.
type Config struct {
	// Dir holds <subject>/<L|R>/<image>, or <subject>/<image> with EyeFromName.
	Dir string
	// EyeFromName, when set, extracts the eye label from the file name: the
	// first submatch if any, else the whole match.
	EyeFromName *regexp.Regexp
	// Workers is the number of goroutines (0 = GOMAXPROCS).
	Workers int
	// MaxEyes, when positive, keeps only the first MaxEyes eyes (sorted), for
	// quick runs.
	MaxEyes int
	// SpeedProbes is the number of 1:N searches timed (0 = 20, negative =
	// no timing).
	SpeedProbes int
	// Log receives progress and failure-to-enroll reasons (file names only).
	Log io.Writer
}

// Image is one eye image of the evaluation.
type Image struct {
	Path string
	Eye  string
}

// Result holds the figures of an evaluation.
type Result struct {
	Images, Eyes, Failed int
	Scores               evaluation.Scores
	// GenuinePairs and ImpostorPairs index List for each score, in the order
	// of Scores.Genuine and Scores.Impostor.
	GenuinePairs, ImpostorPairs [][2]int32
	// ExtractMS is the mean CPU time (decoding included) of one extraction
	// on one core.
	ExtractMS float64
	// ComparePerSecondCore is the 1:N scan speed on one core (gallery
	// entries compared per second, rotations included).
	ComparePerSecondCore float64
	// Templates are the extracted templates, nil for failures.
	Templates []*iris.Template
	List      []Image
}

// FTE is the failure-to-enroll rate.
func (r *Result) FTE() float64 { return float64(r.Failed) / float64(max(r.Images, 1)) }

// ListImages finds the images of cfg.Dir with their eye labels.
func ListImages(cfg Config) ([]Image, error) {
	var list []Image
	err := filepath.WalkDir(cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".pgm":
		default:
			return nil
		}
		rel, _ := filepath.Rel(cfg.Dir, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		var eye string
		switch {
		case cfg.EyeFromName != nil:
			m := cfg.EyeFromName.FindStringSubmatch(d.Name())
			if m == nil {
				return nil
			}
			label := m[0]
			if len(m) > 1 {
				label = m[1]
			}
			eye = strings.Join(parts[:len(parts)-1], "/") + "/" + label
		case len(parts) >= 3:
			eye = strings.Join(parts[:len(parts)-1], "/")
		default:
			return nil
		}
		list = append(list, Image{Path: path, Eye: eye})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("iriseval: list %s: %w", cfg.Dir, err)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Eye != list[j].Eye {
			return list[i].Eye < list[j].Eye
		}
		return list[i].Path < list[j].Path
	})
	if cfg.MaxEyes > 0 {
		eyes := 0
		for i := range list {
			if i == 0 || list[i].Eye != list[i-1].Eye {
				eyes++
			}
			if eyes > cfg.MaxEyes {
				list = list[:i]
				break
			}
		}
	}
	return list, nil
}

// Run extracts every image, scores every pair and measures the speeds.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	list, err := ListImages(cfg)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w under %s", ErrNoImages, cfg.Dir)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	res := &Result{Images: len(list), List: list, Templates: make([]*iris.Template, len(list))}
	eyes := map[string]bool{}
	for _, im := range list {
		eyes[im.Eye] = true
	}
	res.Eyes = len(eyes)

	// Extraction, all cores.
	var next, nanos, failed atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Pin the goroutine so the thread's CPU clock measures it alone.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(list) || ctx.Err() != nil {
					return
				}
				evaluation.Progress(ctx, "extract", i, len(list))
				data, err := os.ReadFile(list[i].Path)
				if err != nil {
					mu.Lock()
					fmt.Fprintf(logw, "read %s: %v\n", list[i].Path, err)
					mu.Unlock()
					failed.Add(1)
					continue
				}
				start := threadCPU()
				img, err := imgproc.DecodeGray(data)
				var t *iris.Template
				if err == nil {
					t, err = iris.Extract(img, iris.Options{})
				}
				nanos.Add(int64(threadCPU() - start))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					fmt.Fprintf(logw, "fte %s: %v\n", filepath.Base(list[i].Path), err)
					mu.Unlock()
					continue
				}
				res.Templates[i] = t
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	evaluation.Progress(ctx, "extract", len(list), len(list))
	res.Failed = int(failed.Load())
	res.ExtractMS = float64(nanos.Load()) / 1e6 / float64(len(list))

	res.Scores, res.GenuinePairs, res.ImpostorPairs = scoreAll(ctx, list, res.Templates, workers)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	probes := cfg.SpeedProbes
	if probes == 0 {
		probes = 20
	}
	if probes > 0 {
		res.ComparePerSecondCore = SearchSpeed(res.Templates, probes)
	}
	return res, nil
}

// scoreAll scores every unordered pair once (the comparator is symmetric up
// to the shift sign), all cores; failures score −Inf.
func scoreAll(ctx context.Context, list []Image, ts []*iris.Template, workers int) (evaluation.Scores, [][2]int32, [][2]int32) {
	n := len(ts)
	probes := make([]*iris.Probe, n)
	var g iris.Gallery
	empty := &iris.Template{Code: make([]uint64, iris.CodeWords), Mask: make([]uint64, iris.CodeWords)}
	for i, t := range ts {
		if t == nil {
			t = empty
		} else {
			probes[i] = iris.NewProbe(t)
		}
		g.Add(t)
	}
	type part struct {
		gen, imp           []float64
		genPairs, impPairs [][2]int32
	}
	parts := make([]part, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(pt *part) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				evaluation.Progress(ctx, "compare", i, n)
				for j := i + 1; j < n; j++ {
					s := math.Inf(-1)
					if probes[i] != nil && ts[j] != nil {
						d, _ := probes[i].DistanceTo(&g, j)
						s = -d
					}
					if list[i].Eye == list[j].Eye {
						pt.gen = append(pt.gen, s)
						pt.genPairs = append(pt.genPairs, [2]int32{int32(i), int32(j)})
					} else {
						pt.imp = append(pt.imp, s)
						pt.impPairs = append(pt.impPairs, [2]int32{int32(i), int32(j)})
					}
				}
			}
		}(&parts[w])
	}
	wg.Wait()
	evaluation.Progress(ctx, "compare", n, n)
	var sc evaluation.Scores
	var gp, ip [][2]int32
	for _, p := range parts {
		sc.Genuine = append(sc.Genuine, p.gen...)
		sc.Impostor = append(sc.Impostor, p.imp...)
		gp = append(gp, p.genPairs...)
		ip = append(ip, p.impPairs...)
	}
	return sc, gp, ip
}

// SearchSpeed measures the 1:N scan on one core: probes searches (probe
// preparation included) of a gallery of the valid templates repeated to at
// least 100,000 entries, top 10, one goroutine; it returns the median over
// the searches of gallery entries compared per second of the thread's CPU
// time, so that other load on the machine counts as little as it can.
func SearchSpeed(ts []*iris.Template, probes int) float64 {
	var g iris.Gallery
	var valid []*iris.Template
	for _, t := range ts {
		if t != nil {
			g.Add(t)
			valid = append(valid, t)
		}
	}
	if len(valid) == 0 {
		return 0
	}
	// Grow small galleries so the timing is meaningful.
	for g.Len() < 100000 {
		for _, t := range valid {
			g.Add(t)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rates := make([]float64, probes)
	for i := range rates {
		start := threadCPU()
		p := iris.NewProbe(valid[(i*7919)%len(valid)])
		g.Search(p, 10, 1)
		rates[i] = float64(g.Len()) / (threadCPU() - start).Seconds()
	}
	sort.Float64s(rates)
	return rates[len(rates)/2]
}

// threadCPU is the CPU time consumed so far by the calling OS thread (the
// caller locks its goroutine to the thread), or the wall clock where the
// system cannot say.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// ErrNoImages is returned when the directory holds no usable image.
var ErrNoImages = errors.New("iriseval: no images")
