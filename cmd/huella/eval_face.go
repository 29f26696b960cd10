package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/face/faceeval"
)

// runEvalFace runs "huella eval face [--pairs FILE] [--det det.png] [--json]
// DIR": LFW pairs under the image root DIR, or every pair of a
// <identity>/<image> directory. With --trace IMAGE it writes the stage images
// of one input into --trace-dir instead.
func runEvalFace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval face", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pairs := fs.String("pairs", "", "LFW pairs file (pairsDevTest.txt, pairs.txt); DIR is then the LFW image root")
	det := fs.String("det", "", "write the DET curve to this PNG")
	asJSON := fs.Bool("json", false, "end the output with one JSON line of figures")
	scores := fs.String("scores", "", "write every comparison score (CSV: kind,score) to this file")
	maxPairs := fs.Int("max-pairs", 0, "score only the first N genuine and N impostor pairs (quick runs)")
	trace := fs.String("trace", "", "write the stage images (detections, landmarks, aligned crop) of this one image and exit")
	traceDir := fs.String("trace-dir", ".", "directory for --trace images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *trace != "" {
		return faceeval.Trace(*trace, *traceDir, stdout)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: huella eval face [--pairs FILE] [--det det.png] [--json] DIR")
	}
	res, err := faceeval.Run(ctx, faceeval.Config{Dir: fs.Arg(0), Pairs: *pairs, MaxPairs: *maxPairs, Log: stderr})
	if err != nil {
		return err
	}
	sc := res.Scores
	fmt.Fprintf(stdout, "face: %d images, FTE %.2f%%, %d genuine, %d impostor comparisons\n",
		res.Images, 100*res.FTE(), len(sc.Genuine), len(sc.Impostor))
	fmt.Fprintf(stdout, "accuracy %.2f%% (%d fold(s))  EER %.3f%%  TAR@FAR1e-3 %.2f%%  threshold@1e-3 %.4f\n",
		100*res.Accuracy, res.Folds, 100*sc.EER(), 100*(1-sc.FNMRAtFMR(1e-3)), sc.ThresholdAtFMR(1e-3))
	fmt.Fprintf(stdout, "extract %.1f ms/image on one core (wall %.1f ms), 1:N %.1f M comparisons/s/core\n",
		res.ExtractMS, res.ExtractWallMS, res.ComparePerSecondCore/1e6)
	if *scores != "" {
		if err := writeScoresCSV(*scores, scoreSet{kind: "genuine", scores: sc.Genuine}, scoreSet{kind: "impostor", scores: sc.Impostor}); err != nil {
			return fmt.Errorf("eval face: %w", err)
		}
	}
	if *det != "" {
		f, err := os.Create(*det)
		if err != nil {
			return fmt.Errorf("eval face: %w", err)
		}
		err = evaluation.WriteDETPNG(f, "face "+filepath.Base(fs.Arg(0)), evaluation.Curve{Name: "huella face", Scores: sc})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("eval face: det: %w", err)
		}
	}
	if *asJSON {
		return writeJSONLine(stdout, map[string]any{
			"images":             res.Images,
			"fte":                res.FTE(),
			"genuine":            len(sc.Genuine),
			"impostor":           len(sc.Impostor),
			"accuracy":           res.Accuracy,
			"eer":                sc.EER(),
			"tar_at_far_1e-3":    1 - sc.FNMRAtFMR(1e-3),
			"extract_ms":         res.ExtractMS,
			"compare_per_s_core": res.ComparePerSecondCore,
		})
	}
	return nil
}
