package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/huella-abis/huella/evaluation"
)

// benches lists the system paths "huella bench" measures.
var benches = map[string]command{
	"enroll":   runBenchEnroll,
	"identify": runBenchIdentify,
	"shards":   runBenchShards,
}

// runBench runs "huella bench PATH": throughput and latency of a system path.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: huella bench {enroll|identify|shards} [flags]\n\nRun \"huella bench PATH -h\" for a benchmark's flags."
	if len(args) == 0 {
		return errors.New(usage)
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage)
	}
	b, ok := benches[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q", args[0])
	}
	progress := newStages(stderr, "bench "+args[0])
	defer progress.Done()
	return b(evaluation.WithProgress(ctx, progress.Report), args[1:], stdout, stderr)
}

// startCPUProfile starts a CPU profile written to path (nothing when path
// is empty) and returns the function that stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
