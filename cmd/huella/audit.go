package main

import (
	"context"
	"fmt"
	"io"

	"github.com/huella-abis/huella/audit"
)

// runAudit runs "huella audit verify": it walks the hash chain and reports
// the first broken link, with exit status 1.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "huella audit verify [--data DIR] [--postgres DSN]"
	if len(args) > 0 && isHelp(args[0]) {
		return printHelp(stdout, "usage: "+usage)
	}
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: %s", usage)
	}
	var cfg Config
	fs := newFlagSet("audit verify", usage, stderr)
	cfg.registerFlags(fs, false)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	r, err := audit.Verify(ctx, app.Store)
	if err != nil {
		return err
	}
	if r.Break != nil {
		fmt.Fprintf(stdout, "audit chain BROKEN after %d good events: %s\n", r.Events, r.Break)
		return &exitError{code: 1, err: fmt.Errorf("audit chain broken at event %d", r.Break.Seq)}
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events\n", r.Events)
	return nil
}
