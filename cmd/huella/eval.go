package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/huella-abis/huella/evaluation"
)

// evaluators lists the engines "huella eval" can measure, each in its own
// file eval_<engine>.go.
var evaluators = map[string]command{
	"fusion":        runEvalFusion,
	"finger":        runEvalFinger,
	"finger-index":  runEvalFingerIndex,
	"finger-robust": runEvalFingerRobust,
	"iris":          runEvalIris,
	"iris-robust":   runEvalIrisRobust,
	"face":          runEvalFace,
	"tattoo":        runEvalTattoo,
}

// runEval runs "huella eval ENGINE [flags] DIR".
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(evaluators))
	for name := range evaluators {
		names = append(names, name)
	}
	sort.Strings(names)
	usage := fmt.Sprintf("usage: huella eval {%s} [flags] DIR\n\nRun \"huella eval ENGINE -h\" for an engine's flags.", strings.Join(names, "|"))
	if len(args) == 0 {
		return errors.New(usage)
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage)
	}
	eval, ok := evaluators[args[0]]
	if !ok {
		return fmt.Errorf("eval: unknown engine %q (have %s)", args[0], strings.Join(names, ", "))
	}
	// Long stages (extraction, comparison) report a bar on a terminal,
	// else "N of M" lines, on stderr: stdout stays the figures.
	progress := newStages(stderr, "eval "+args[0])
	defer progress.Done()
	return eval(evaluation.WithProgress(ctx, progress.Report), args[1:], stdout, stderr)
}

// writeJSONLine writes v as the single JSON object on the last line of the
// output, as the eval contract requires.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// scoreSet is one kind of comparison ("genuine" or "impostor") for a
// --scores file: its scores and, when the evaluation keeps them, the names of
// the two samples behind each score.
type scoreSet struct {
	kind   string
	scores []float64
	names  func(i int) (a, b string) // nil when the pairs are not kept
}

// writeScoresCSV writes every score as a "kind,a,b,score" line: a and b name
// the two samples (empty when not kept), so that a failed genuine pair or a
// high impostor can be looked at; "huella eval fusion" reads the first and
// last columns. A failed extraction is -Inf.
func writeScoresCSV(path string, sets ...scoreSet) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "kind,a,b,score")
	for _, set := range sets {
		for i, v := range set.scores {
			var a, b string
			if set.names != nil {
				a, b = set.names(i)
			}
			fmt.Fprintf(w, "%s,%s,%s,%g\n", set.kind, a, b, v)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
