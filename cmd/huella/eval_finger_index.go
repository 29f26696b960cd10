package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/huella-abis/huella/finger"
)

// fingerIndexRates are the penetration rates "huella eval finger-index"
// reports: the share of the gallery the pre-selection keeps.
var fingerIndexRates = []float64{0.0001, 0.001, 0.01, 0.05, 0.1, 0.2}

// runEvalFingerIndex runs "huella eval finger-index [--subjects N]
// [--impostors N] [--exact] [--json] DIR...": for each DIR of FVC-named
// images, the share of genuine mates the descriptor pre-selection
// (finger.Describe) misses when it keeps the top P% of the gallery, for one
// finger and for chimeric ten-finger people. With --exact the same figures
// for the exact comparator, the reference a pre-selection cannot beat.
func runEvalFingerIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval finger-index", flag.ContinueOnError)
	fs.SetOutput(stderr)
	subjects := fs.Int("subjects", 2000, "chimeric ten-finger probe people per DIR")
	impostors := fs.Int("impostors", 10000, "chimeric impostor people each probe person is ranked against")
	exact := fs.Bool("exact", false, "also measure the exact comparator")
	ppi := fs.Int("ppi", 500, "resolution of the images (normalised to 500 ppi)")
	asJSON := fs.Bool("json", false, "end the output with one JSON line of figures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("usage: huella eval finger-index [--subjects N] [--impostors N] [--exact] [--json] DIR...")
	}
	type row struct {
		Set        string    `json:"set"`
		Similarity string    `json:"similarity"`
		Pairs      int       `json:"pairs"`
		Subjects   int       `json:"subjects"`
		Rates      []float64 `json:"penetration"`
		Finger     []float64 `json:"missed_finger"`
		Subject    []float64 `json:"missed_subject"`
		AnyFinger  []float64 `json:"missed_any_finger"`
	}
	var rows []row
	for _, dir := range fs.Args() {
		r, err := finger.Evaluate(ctx, dir, *ppi)
		if err != nil {
			return err
		}
		var names []string
		var descriptors []finger.Descriptor
		var cands []*finger.Candidate
		for _, s := range r.Samples {
			if s.Template == nil {
				continue // failed to enroll: counted by eval finger, not here
			}
			names = append(names, s.Finger)
			descriptors = append(descriptors, finger.Describe(s.Template))
			cands = append(cands, s.Candidate)
		}
		kinds := []string{"descriptor"}
		if *exact {
			kinds = append(kinds, "exact")
		}
		for _, kind := range kinds {
			sim := make([][]float64, len(names))
			for i := range sim {
				sim[i] = make([]float64, len(names))
				for j := range sim[i] {
					if kind == "exact" {
						sim[i][j] = finger.Compare(cands[i], cands[j])
					} else {
						sim[i][j] = float64(descriptors[i].Similarity(&descriptors[j]))
					}
				}
			}
			p := finger.EvaluatePreselection(sim, names, fingerIndexRates, *subjects, *impostors, 2026)
			rw := row{Set: filepath.Base(dir), Similarity: kind, Pairs: p.Pairs, Subjects: p.Subjects, Rates: fingerIndexRates}
			for i := range p.Finger {
				rw.Finger = append(rw.Finger, p.Finger[i].Missed)
				rw.Subject = append(rw.Subject, p.Subject[i].Missed)
				rw.AnyFinger = append(rw.AnyFinger, p.AnyFinger[i].Missed)
			}
			rows = append(rows, rw)
		}
	}
	fmt.Fprintf(stdout, "genuine mates missed (%%) when keeping the top P%% of the gallery\n%-8s %-10s %-7s", "set", "similarity", "level")
	for _, p := range fingerIndexRates {
		fmt.Fprintf(stdout, " %7s", fmt.Sprintf("%g%%", 100*p))
	}
	fmt.Fprintln(stdout)
	for _, rw := range rows {
		for _, level := range []struct {
			name   string
			missed []float64
		}{{"finger", rw.Finger}, {"subject", rw.Subject}, {"any", rw.AnyFinger}} {
			fmt.Fprintf(stdout, "%-8s %-10s %-7s", rw.Set, rw.Similarity, level.name)
			for _, m := range level.missed {
				fmt.Fprintf(stdout, " %7.2f", 100*m)
			}
			fmt.Fprintln(stdout)
		}
	}
	fmt.Fprintf(stdout, "finger: every ordered pair of impressions of one finger against the images of the set's other fingers; subject: %d chimeric ten-finger people per set (each position a different finger), each against %d chimeric impostors, scored by the sum of their ten fingers' similarities; any: the same people, found when one of their fingers' mates is in that finger's own top P%%\n", *subjects, *impostors)
	if !*asJSON {
		return nil
	}
	return writeJSONLine(stdout, map[string]any{"sets": rows})
}
