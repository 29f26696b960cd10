package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/cpulevel"
	"github.com/huella-abis/huella/iris"
	"github.com/huella-abis/huella/iris/iriseval"
)

// runEvalIris runs "huella eval iris [--det det.png] [--scores scores.csv]
// [--json] [--eye-from-name REGEX] DIR", or with --trace IMAGE writes the
// stage images of one input into --trace-dir.
func runEvalIris(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval iris", flag.ContinueOnError)
	fs.SetOutput(stderr)
	det := fs.String("det", "", "write the DET curve to this PNG")
	scores := fs.String("scores", "", "write every comparison score to this CSV")
	asJSON := fs.Bool("json", false, "end the output with one JSON line of figures")
	eyeFromName := fs.String("eye-from-name", "", "regular expression giving the eye label from the file name (layout <subject>/<image>)")
	maxEyes := fs.Int("max-eyes", 0, "evaluate only the first N eyes (quick runs)")
	trace := fs.String("trace", "", "write the stage images of this one image and exit")
	traceDir := fs.String("trace-dir", ".", "directory for --trace images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *trace != "" {
		return traceIris(*trace, *traceDir, stdout)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: huella eval iris [--det det.png] [--scores scores.csv] [--json] [--eye-from-name REGEX] DIR")
	}
	if err := cpulevel.Check(); err != nil {
		return fmt.Errorf("eval iris: %w", err)
	}
	cfg := iriseval.Config{Dir: fs.Arg(0), MaxEyes: *maxEyes, Log: stderr}
	if *eyeFromName != "" {
		re, err := regexp.Compile(*eyeFromName)
		if err != nil {
			return fmt.Errorf("eval iris: --eye-from-name: %w", err)
		}
		cfg.EyeFromName = re
	}
	res, err := iriseval.Run(ctx, cfg)
	if err != nil {
		return err
	}
	sc := res.Scores
	fmt.Fprintf(stdout, "iris: %d images, %d eyes, FTE %.2f%%, %d genuine, %d impostor pairs\n",
		res.Images, res.Eyes, 100*res.FTE(), len(sc.Genuine), len(sc.Impostor))
	fmt.Fprintf(stdout, "EER %.3f%%  FNMR@FMR1e-3 %.3f%%  FNMR@FMR1e-4 %.3f%%  threshold@1e-3 %.4f\n",
		100*sc.EER(), 100*sc.FNMRAtFMR(1e-3), 100*sc.FNMRAtFMR(1e-4), sc.ThresholdAtFMR(1e-3))
	fmt.Fprintf(stdout, "extract %.1f ms/image, 1:N %.2f M comparisons/s/core (%s kernel)\n", res.ExtractMS, res.ComparePerSecondCore/1e6, iris.Kernel())
	if *det != "" {
		f, err := os.Create(*det)
		if err != nil {
			return fmt.Errorf("eval iris: %w", err)
		}
		err = evaluation.WriteDETPNG(f, "iris "+filepath.Base(cfg.Dir), evaluation.Curve{Name: "huella iris", Scores: sc})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("eval iris: det: %w", err)
		}
	}
	if *scores != "" {
		if err := writeScoresCSV(*scores, irisScores(res)...); err != nil {
			return fmt.Errorf("eval iris: scores: %w", err)
		}
	}
	if *asJSON {
		return writeJSONLine(stdout, map[string]any{
			"images":             res.Images,
			"eyes":               res.Eyes,
			"fte":                res.FTE(),
			"genuine":            len(sc.Genuine),
			"impostor":           len(sc.Impostor),
			"eer":                sc.EER(),
			"fnmr_at_fmr_1e-3":   sc.FNMRAtFMR(1e-3),
			"fnmr_at_fmr_1e-4":   sc.FNMRAtFMR(1e-4),
			"extract_ms":         res.ExtractMS,
			"compare_per_s_core": res.ComparePerSecondCore,
			"kernel":             iris.Kernel(),
		})
	}
	return nil
}

// irisScores are the score sets of an evaluation, each score named by the
// paths of its two images.
func irisScores(res *iriseval.Result) []scoreSet {
	names := func(pairs [][2]int32) func(int) (string, string) {
		return func(i int) (string, string) {
			p := pairs[i]
			return res.List[p[0]].Path, res.List[p[1]].Path
		}
	}
	return []scoreSet{
		{"genuine", res.Scores.Genuine, names(res.GenuinePairs)},
		{"impostor", res.Scores.Impostor, names(res.ImpostorPairs)},
	}
}

// traceIris extracts one image with the trace hook on, writing each stage as
// <trace-dir>/<key>.png, then prints the boundaries and the quality measures
// beside their gates (or the failure reason).
func traceIris(path, dir string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("eval iris: %w", err)
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		return fmt.Errorf("eval iris: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval iris: %w", err)
	}
	var werr error
	t, err := iris.Extract(img, iris.Options{Trace: func(key string, im image.Image) {
		out := filepath.Join(dir, key+".png")
		f, err := os.Create(out)
		if err != nil {
			werr = err
			return
		}
		if err := png.Encode(f, im); err != nil {
			werr = err
		}
		f.Close()
		fmt.Fprintln(stdout, out)
	}})
	if werr != nil {
		return fmt.Errorf("eval iris: trace: %w", werr)
	}
	if err != nil {
		fmt.Fprintln(stdout, err)
		return nil
	}
	// The quality measures against their gates (params.go).
	q := t.Quality
	fmt.Fprintf(stdout, "pupil (%.1f, %.1f) r %.1f, iris (%.1f, %.1f) r %.1f\n", q.Pupil.X, q.Pupil.Y, q.Pupil.R, q.Iris.X, q.Iris.Y, q.Iris.R)
	fmt.Fprintf(stdout, "usable area %.2f (>= %.2f), pupil/iris %.2f (%.2f-%.2f), gaze %.2f (<= %.2f), sharpness %.2f (>= %.2f)\n",
		q.UsableFraction, iris.MinUsableFraction, q.PupilRatio, iris.MinPupilRatio, iris.MaxPupilRatio, q.Gaze, iris.MaxGaze, q.Sharpness, iris.MinSharpness)
	return nil
}
