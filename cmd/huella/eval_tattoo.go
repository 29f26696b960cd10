package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/huella-abis/huella/tattoo"
)

// runEvalTattoo runs "huella eval tattoo [--distractors DIR] [--folds K] [--json] DIR":
// the BIVTatt identification protocol (see tattoo.EvaluateBIVTatt).
func runEvalTattoo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval tattoo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	distractors := fs.String("distractors", "", "folder of whole tattoo photos added to the gallery")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object on the last line")
	shortlist := fs.Int("shortlist", 0, "images verified geometrically per probe (0 = default, -1 = all)")
	globalShortlist := fs.Int("global-shortlist", 0, "images added to the shortlist by global descriptor (0 = default, -1 = none)")
	workers := fs.Int("workers", 0, "parallel extraction workers (0 = all cores)")
	verbose := fs.Bool("v", false, "log progress and each missed probe")
	folds := fs.Int("folds", 0, "cross-validate: split the subjects into this many folds, training the vocabulary without each fold's subjects")
	trace := fs.String("trace", "", "folder for a PNG of each real probe beside its top candidate, matches drawn")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huella eval tattoo [--distractors DIR] [--folds K] [--json] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	opt := tattoo.EvalOptions{Distractors: *distractors, Shortlist: *shortlist, GlobalShortlist: *globalShortlist, Workers: *workers, TraceDir: *trace, Folds: *folds}
	if *verbose {
		opt.Log = stderr
	}
	res, err := tattoo.EvaluateBIVTatt(ctx, fs.Arg(0), opt)
	if err != nil {
		return fmt.Errorf("eval tattoo: %w", err)
	}
	fmt.Fprintf(stdout, "gallery %d images; extraction %.1f ms/image (%d failed); search %.1f ms/probe\n",
		res.Gallery, res.ExtractMS, res.FailedExtractions, res.SearchMS)
	fmt.Fprintf(stdout, "variants: %d probes, rank-1 %.1f%%, rank-10 %.1f%%\n",
		res.ProbesVariant, 100*res.Rank1Variant, 100*res.Rank10Variant)
	fmt.Fprintf(stdout, "real repeats: %d probes, rank-1 %.1f%%, rank-10 %.1f%%\n",
		res.ProbesReal, 100*res.Rank1Real, 100*res.Rank10Real)
	if *asJSON {
		return writeJSONLine(stdout, res)
	}
	return nil
}
