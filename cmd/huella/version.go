package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/huella-abis/huella/internal/buildinfo"
)

// runVersion runs "huella version [--json]" (also "huella --version"): the
// module version, VCS commit and Go version stamped into the binary.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "huella version [--json]", stderr)
	asJSON := fs.Bool("json", false, "print a JSON object")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	info := buildinfo.Read()
	if *asJSON {
		return writeJSONLine(stdout, info)
	}
	_, err := fmt.Fprintln(stdout, info)
	return err
}

// newFlagSet returns a command's flag set: errors return (they do not
// exit), and -h prints "Usage: USAGE" and the flags.
func newFlagSet(name, usage string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n", usage)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args and checks the number of arguments left: exactly
// n, or any number when n < 0. Extra arguments are an error, not ignored.
func parseFlags(fs *flag.FlagSet, args []string, n int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case n >= 0 && fs.NArg() > n:
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(n))
	case n >= 0 && fs.NArg() < n:
		fs.Usage()
		return fmt.Errorf("%s: %d argument(s) needed, got %d", fs.Name(), n, fs.NArg())
	}
	return nil
}
