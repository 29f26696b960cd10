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
	"backup":      runBackup,
	"restore":     runRestore,
	"bench":       runBench,
	"demo":        runDemo,
	"eval":        runEval,
	"export":      runExport,
	"finger":      runFinger,
	"import":      runImport,
	"iso":         runISO,
	"keys":        runKeys,
	"nist":        runNist,
	"openapi":     runOpenAPI,
	"wsq":         runWSQ,
	"serve":       runServe,
	"matcher":     runMatcher,
	"snapshot":    runSnapshot,
	"site":        runSite,
	"partner":     runPartner,
	"partner-sim": runPartnerSim,
	"purge":       runPurge,
	"user":        runUser,
	"version":     runVersion,
}

// Run runs the subcommand named by args[0]. Help ("huella help [COMMAND]",
// -h, -help or --help anywhere among a command's flags) goes to stdout and
// is not an error; a bare "huella" prints the usage to stderr and fails.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return flag.ErrHelp
	}
	switch {
	case isHelp(args[0]) && len(args) == 1:
		usage(stdout)
		return nil
	case isHelp(args[0]):
		return Run(ctx, []string{args[1], "-h"}, stdout, stderr)
	case args[0] == "--version" || args[0] == "-version":
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if wantsHelp(args[1:]) {
		// The flag package prints a command's usage to its output, which
		// is stderr for errors: for help it is stdout.
		err := cmd(ctx, args[1:], stdout, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// wantsHelp reports whether a command's arguments ask for help: a help
// flag before any "--", or "help" as the sub-verb ("huella eval help").
func wantsHelp(args []string) bool {
	if len(args) > 0 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// printHelp writes a dispatcher's usage to stdout, for -h: not an error.
func printHelp(stdout io.Writer, text string) error {
	_, err := fmt.Fprintln(stdout, text)
	return err
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Huella: a multimodal automated biometric identification system.

Usage: huella <command> [flags] [arguments]

Commands:
  demo      run on embedded defaults with a demo facility, users and encounters
  serve     serve the JSON API and console
  matcher   hold one shard of the subject gallery and answer searches over NATS (serve --matchers)
  snapshot  write the subject gallery, split into shards, to object storage for the matchers to load
  eval      evaluate an engine on a dataset (finger, iris, face, tattoo, fusion)
  bench     measure a system path (enroll, identify)
  import    enroll ANSI/NIST-ITL transactions
  export    write an encounter as an ANSI/NIST-ITL transaction
  nist      check ANSI/NIST-ITL files, extract their images
  iso       check ISO/IEC 19794 records (finger images and minutiae, face, iris), extract their images
  finger    segment a four-finger or thumbs slap into named fingertips
  openapi   print the API's OpenAPI document
  wsq       decode and encode FBI WSQ fingerprint images
  site      add or list sites (facilities)
  partner   add partner agencies and sharing agreements; list deliveries
  partner-sim  run a partner's receiving end (verifies, deduplicates; can fail, hang, be slow)
  user      add a user and print its API token
  purge     erase a subject on order, subjects past retention, or orphan blobs
  audit     verify the hash-chained audit trail
  keys      key status, rotation of the data key, re-encryption of the records
  backup    copy the store, images and key manifest to a directory, online
  restore   check a backup and restore it into an empty data directory
  version   print the version, commit and Go version

Run "huella <command> -h" (or "huella help <command>") for a command's flags.
"huella --version" prints the version.
`)
}
