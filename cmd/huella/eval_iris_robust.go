package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"

	"github.com/huella-abis/huella/iris/iriseval"
)

// runEvalIrisRobust runs "huella eval iris-robust [--json] [--eye-from-name
// REGEX] [--max-eyes N] DIR": the iris evaluation, then every genuine pair
// re-scored with its second image perturbed (iriseval.Perturbations), with
// FTE and FNMR at the unperturbed FMR 1e-3 threshold for each perturbation.
func runEvalIrisRobust(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval iris-robust", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "end the output with one JSON line of figures")
	eyeFromName := fs.String("eye-from-name", "", "regular expression giving the eye label from the file name (layout <subject>/<image>)")
	maxEyes := fs.Int("max-eyes", 0, "evaluate only the first N eyes (quick runs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: huella eval iris-robust [--json] [--eye-from-name REGEX] [--max-eyes N] DIR")
	}
	cfg := iriseval.Config{Dir: fs.Arg(0), MaxEyes: *maxEyes, SpeedProbes: -1, Log: stderr}
	if *eyeFromName != "" {
		re, err := regexp.Compile(*eyeFromName)
		if err != nil {
			return fmt.Errorf("eval iris-robust: --eye-from-name: %w", err)
		}
		cfg.EyeFromName = re
	}
	res, err := iriseval.RunRobust(ctx, cfg, iriseval.Perturbations)
	if err != nil {
		return err
	}
	base := res.Base
	fmt.Fprintf(stdout, "iris-robust: %d images, %d eyes, %d genuine pairs; unperturbed FTE %.2f%%, FNMR %.2f%% at FMR 1e-3 (distance < %.4f)\n",
		base.Images, base.Eyes, len(base.Scores.Genuine), 100*base.FTE(), 100*res.BaseFNMR, -res.Threshold)
	fmt.Fprintf(stdout, "%-15s %8s %8s\n", "perturbation", "FTE", "FNMR")
	figures := map[string]any{
		"images":    base.Images,
		"eyes":      base.Eyes,
		"genuine":   len(base.Scores.Genuine),
		"fte":       base.FTE(),
		"fnmr":      res.BaseFNMR,
		"threshold": -res.Threshold,
	}
	for _, row := range res.Rows {
		fmt.Fprintf(stdout, "%-15s %7.2f%% %7.2f%%\n", row.Name, 100*row.FTE(), 100*row.FNMR())
		figures["fte_"+row.Name] = row.FTE()
		figures["fnmr_"+row.Name] = row.FNMR()
	}
	if *asJSON {
		return writeJSONLine(stdout, figures)
	}
	return nil
}
