package main

import (
	"context"
	"fmt"
	"io"
)

// runBench runs "huella bench PATH": throughput and latency of a system path.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	benches := map[string]command{
		"enroll":   runBenchEnroll,
		"identify": runBenchIdentify,
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: huella bench {enroll|identify} [flags]")
	}
	b, ok := benches[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q", args[0])
	}
	return b(ctx, args[1:], stdout, stderr)
}
