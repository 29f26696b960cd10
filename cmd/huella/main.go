// Command huella is the Huella ABIS: one binary that serves the API and
// console, runs the demo, and offers the evaluation and maintenance tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "huella:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a process exit status other than 1 (for example a check
// command that found problems).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// command is one subcommand: it parses its own flags from args.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// commands lists every subcommand, wired by hand.
var commands = map[string]command{
	"audit":       runAudit,
	"bench":       runBench,
	"demo":        runDemo,
	"eval":        runEval,
	"export":      runExport,
	"import":      runImport,
	"nist":        runNist,
	"wsq":         runWSQ,
	"serve":       runServe,
	"site":        runSite,
	"partner":     runPartner,
	"partner-sim": runPartnerSim,
	"purge":       runPurge,
	"user":        runUser,
}

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return flag.ErrHelp
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Huella: a multimodal automated biometric identification system.

Usage: huella <command> [flags] [arguments]

Commands:
  demo      run on embedded defaults with a demo facility, users and encounters
  serve     serve the JSON API and console
  eval      evaluate an engine on a dataset (finger, iris, face, tattoo, fusion)
  bench     measure a system path (enroll, identify)
  import    enroll ANSI/NIST-ITL transactions
  export    write an encounter as an ANSI/NIST-ITL transaction
  nist      check ANSI/NIST-ITL files, extract their images
  wsq       decode and encode FBI WSQ fingerprint images
  site      add or list sites (facilities)
  partner   add partner agencies and sharing agreements; list deliveries
  partner-sim  run a partner's receiving end (verifies, deduplicates; can fail, hang, be slow)
  user      add a user and print its API token
  purge     erase a subject on order, subjects past retention, or orphan blobs
  audit     verify the hash-chained audit trail

Run "huella <command> -h" for a command's flags.
`)
}
