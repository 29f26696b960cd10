package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/huella-abis/huella/fusion"
)

// runEvalFusion runs "huella eval fusion": it fits one calibration per
// modality on half of each engine's scores (the CSVs "huella eval ENGINE
// --scores" writes), then measures on the other half, with chimeric people,
// the FNMR at FMR 1e-6 of the fused decision against each modality alone.
func runEvalFusion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval fusion", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fingerCSV := fs.String("finger", "", "scores of 'huella eval finger --scores'")
	irisCSV := fs.String("iris", "", "scores of 'huella eval iris --scores'")
	faceCSV := fs.String("face", "", "scores of 'huella eval face --scores'")
	writeCal := fs.String("write-calibration", "", "write the fitted calibrations (fitted on all scores) to this JSON file; a modality given no scores keeps its entry from the file")
	impostors := fs.Int("impostors", 20_000_000, "chimeric impostor pairs to draw")
	asJSON := fs.Bool("json", false, "print the result as one JSON line")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	type modality struct {
		name, path string
		gen, imp   []float64
	}
	var mods []*modality
	for _, m := range []*modality{{name: "finger", path: *fingerCSV}, {name: "iris", path: *irisCSV}, {name: "face", path: *faceCSV}} {
		if m.path == "" {
			continue
		}
		var err error
		if m.gen, m.imp, err = readScoresCSV(m.path); err != nil {
			return fmt.Errorf("eval fusion: %s: %w", m.name, err)
		}
		mods = append(mods, m)
	}
	if len(mods) == 0 {
		return fmt.Errorf("usage: huella eval fusion --finger F.csv --iris I.csv --face C.csv [--write-calibration FILE] [--json]")
	}
	parts := map[string]fusion.Part{}
	full := fusion.Set{}
	for _, m := range mods {
		genFit, genTest := fusion.Split(m.gen)
		impFit, impTest := fusion.Split(m.imp)
		cal, err := fusion.Fit(m.name, genFit, impFit, 64)
		if err != nil {
			return fmt.Errorf("eval fusion: %s: %w", m.name, err)
		}
		parts[m.name] = fusion.Part{Calibration: cal, Genuine: genTest, Impostor: impTest, Count: 1}
		if full[m.name], err = fusion.Fit(m.name, m.gen, m.imp, 64); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-6s %7d genuine %9d impostor scores; LLR range %.1f .. %.1f\n", m.name, len(m.gen), len(m.imp), cal.LLRs[0], cal.LLRs[len(cal.LLRs)-1])
	}
	// Probe kinds: each modality alone, then the fusions the program uses.
	kinds := []struct {
		name   string
		counts map[string]int
	}{
		{"one_finger", map[string]int{"finger": 1}},
		{"one_iris", map[string]int{"iris": 1}},
		{"face", map[string]int{"face": 1}},
		{"two_fingers", map[string]int{"finger": 2}},
		{"two_iris", map[string]int{"iris": 2}},
		{"two_iris_face", map[string]int{"iris": 2, "face": 1}},
		{"tenprint", map[string]int{"finger": 10}},
		{"all", map[string]int{"finger": 10, "iris": 2, "face": 1}},
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	results := map[string]fusion.ChimericResult{}
	for _, k := range kinds {
		var ps []fusion.Part
		for name, n := range k.counts {
			p, ok := parts[name]
			if !ok {
				ps = nil
				break
			}
			p.Count = n
			ps = append(ps, p)
		}
		if ps == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r := fusion.Chimeric(rng, ps, 100_000, *impostors, 1e-6)
		results[k.name] = r
		measured := "not measurable: too few distinct impostor pairs"
		if r.Measurable {
			measured = fmt.Sprintf("%.4f", r.FNMRMeasured)
		}
		fmt.Fprintf(stdout, "%-14s FNMR %.4f at LLR >= %.1f (measured FMR %.2g); at measured FMR <= 1e-6: %s\n", k.name, r.FNMR, r.Threshold, r.FMR, measured)
	}
	if *writeCal != "" {
		if err := keepCalibrations(*writeCal, full); err != nil {
			return fmt.Errorf("eval fusion: %w", err)
		}
		b, err := json.MarshalIndent(full, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*writeCal, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSONLine(stdout, results)
	}
	return nil
}

// keepCalibrations adds to full the calibrations of the file at path (if it
// exists) for the modalities full lacks, so that refitting one engine
// leaves the others' shipped calibrations as they were.
func keepCalibrations(path string, full fusion.Set) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := fusion.ParseSet(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for name, cal := range old {
		if _, ok := full[name]; !ok {
			full[name] = cal
		}
	}
	return nil
}

// readScoresCSV reads a score file whose first column is the kind (genuine
// or impostor) and last column the score; "-Inf" marks a failed extraction.
func readScoresCSV(path string) (gen, imp []float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		text := sc.Text()
		if line == 0 && strings.HasPrefix(text, "kind") {
			continue
		}
		kind, _, _ := strings.Cut(text, ",")
		v, err := strconv.ParseFloat(text[strings.LastIndexByte(text, ',')+1:], 64)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line+1, err)
		}
		if math.IsNaN(v) {
			continue
		}
		switch kind {
		case "genuine":
			gen = append(gen, v)
		case "impostor":
			imp = append(imp, v)
		default:
			return nil, nil, fmt.Errorf("line %d: unknown kind %q", line+1, kind)
		}
	}
	return gen, imp, sc.Err()
}
