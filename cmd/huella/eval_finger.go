package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/finger"
)

// runEvalFinger runs "huella eval finger [--det det.png] [--scores scores.csv]
// [--json] [--ppi N] [--trace OUTDIR [--trace-image NAME]] DIR": the FVC
// protocol plus all-pairs impostors.
func runEvalFinger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval finger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	detPath := fs.String("det", "", "write the DET plot (PNG) to this file")
	scoresPath := fs.String("scores", "", "write every score (CSV: kind,a,b,score with the two image names) to this file")
	asJSON := fs.Bool("json", false, "end the output with one JSON line of figures")
	ppi := fs.Int("ppi", 500, "resolution of the images (normalised to 500 ppi)")
	traceDir := fs.String("trace", "", "write the stage images (mask, orientation, enhanced, skeleton, minutiae…) of one image to this directory")
	traceImage := fs.String("trace-image", "", "file name in DIR of the image to trace (default: the first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: huella eval finger [--det det.png] [--scores scores.csv] [--json] [--ppi N] [--trace OUTDIR [--trace-image NAME]] DIR")
	}
	dir := fs.Arg(0)
	r, err := finger.Evaluate(ctx, dir, *ppi)
	if err != nil {
		return err
	}
	if *traceDir != "" {
		path := r.Samples[0].Path
		if *traceImage != "" {
			path = filepath.Join(dir, *traceImage)
		}
		if err := finger.WriteTrace(path, *ppi, *traceDir); err != nil {
			fmt.Fprintf(stderr, "trace %s: %v\n", filepath.Base(path), err)
		}
	}
	fvc := evaluation.Scores{Genuine: r.Genuine, Impostor: r.Impostor}
	all := evaluation.Scores{Genuine: r.Genuine, Impostor: r.ImpostorAll}
	fmt.Fprintf(stdout, "%s: %d images, FTE %.2f%%, extraction %.1f ms/image, 1:N %.0f comparisons/s/core (%s kernel)\n",
		dir, len(r.Samples), 100*r.FTE, r.ExtractMS, r.ComparePerSecond, finger.CylinderKernel())
	fmt.Fprintf(stdout, "EER %.2f%% (FVC impostors), %.2f%% (all pairs); FNMR %.2f%% at FMR 1%%, %.2f%% at FMR 0.1%%\n",
		100*fvc.EER(), 100*all.EER(), 100*all.FNMRAtFMR(1e-2), 100*all.FNMRAtFMR(1e-3))
	fmt.Fprintf(stdout, "score thresholds (all-pairs impostors): %.4f at FMR 1%%, %.4f at FMR 0.1%%\n",
		all.ThresholdAtFMR(1e-2), all.ThresholdAtFMR(1e-3))
	curve := r.RejectCurve(1e-3, []float64{0, 0.05, 0.1, 0.2})
	for _, p := range curve {
		fmt.Fprintf(stdout, "reject %2.0f%% lowest quality: FNMR %.2f%% at FMR 0.1%%\n", 100*p.Rejected, 100*p.FNMR)
	}
	if *detPath != "" {
		f, err := os.Create(*detPath)
		if err != nil {
			return err
		}
		err = evaluation.WriteDETPNG(f, "finger "+filepath.Base(dir), evaluation.Curve{Name: "all-pairs impostors", Scores: all})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write DET: %w", err)
		}
	}
	if *scoresPath != "" {
		if err := writeScoresCSV(*scoresPath, fingerScores(r)...); err != nil {
			return err
		}
	}
	if !*asJSON {
		return nil
	}
	return writeJSONLine(stdout, map[string]any{
		"images":                 len(r.Samples),
		"fte":                    r.FTE,
		"genuine":                len(r.Genuine),
		"impostor":               len(r.Impostor),
		"impostor_all":           len(r.ImpostorAll),
		"eer":                    fvc.EER(),
		"eer_all":                all.EER(),
		"fnmr_at_fmr_1e-2":       all.FNMRAtFMR(1e-2),
		"fnmr_at_fmr_1e-3":       all.FNMRAtFMR(1e-3),
		"extract_ms":             r.ExtractMS,
		"compare_per_s_core":     r.ComparePerSecond,
		"kernel":                 finger.CylinderKernel(),
		"fnmr_at_fmr_1e-3_rej10": curve[2].FNMR,
	})
}

// fingerScores are the score sets of an evaluation, each score named by
// its two images.
func fingerScores(r *finger.Report) []scoreSet {
	names := func(pairs [][2]int) func(int) (string, string) {
		return func(i int) (string, string) {
			p := pairs[i]
			return filepath.Base(r.Samples[p[0]].Path), filepath.Base(r.Samples[p[1]].Path)
		}
	}
	return []scoreSet{
		{"genuine", r.Genuine, names(r.GenuinePairs())},
		{"impostor", r.ImpostorAll, names(r.ImpostorPairs())},
	}
}
