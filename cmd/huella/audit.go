package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/huella-abis/huella/audit"
	"github.com/huella-abis/huella/natsbus"
)

// runAudit runs "huella audit verify": it walks the hash chain, checks it
// against the signed checkpoints (the file, and the NATS audit stream when
// --nats is given) and reports the first broken link, a truncation or a
// rewrite, with exit status 1.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "huella audit verify [--data DIR] [--postgres DSN] [--audit-key FILE] [--audit-checkpoints FILE] [--nats URL] [--json]"
	if len(args) > 0 && isHelp(args[0]) {
		return printHelp(stdout, "usage: "+usage)
	}
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: %s", usage)
	}
	var cfg Config
	fs := newFlagSet("audit verify", usage, stderr)
	cfg.registerFlags(fs, false)
	cfg.registerAuditFlags(fs)
	natsURL := fs.String("nats", "", "also check against the newest checkpoint on this NATS server's audit stream")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	cfg.Existing = true
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	checkpoints, err := readCheckpoints(ctx, app.Config, *natsURL)
	if err != nil {
		return err
	}
	r, err := audit.VerifyCheckpoints(ctx, app.Store, checkpoints)
	if err != nil {
		return err
	}
	if *asJSON {
		out := verifyResult{Intact: r.Break == nil, Events: r.Events, Checkpoints: len(checkpoints)}
		if c := r.Checkpoint; c != nil {
			out.CheckpointEvents, out.CheckpointTime = c.Count, c.Time.UTC().Format(time.RFC3339)
		}
		if b := r.Break; b != nil {
			out.BreakSeq, out.BreakReason = b.Seq, b.Reason
		}
		if err := writeJSONLine(stdout, out); err != nil {
			return err
		}
		if r.Break != nil {
			return &exitError{code: 1, err: fmt.Errorf("audit chain broken at event %d", r.Break.Seq)}
		}
		return nil
	}
	if len(checkpoints) == 0 {
		fmt.Fprintf(stdout, "warning: no signed checkpoints in %s: the removal of the newest events or a rewrite with recomputed hashes cannot be detected\n",
			app.Config.AuditCheckpoints)
	}
	if r.Break != nil {
		fmt.Fprintf(stdout, "audit chain BROKEN after %d good events: %s\n", r.Events, r.Break)
		return &exitError{code: 1, err: fmt.Errorf("audit chain broken at event %d", r.Break.Seq)}
	}
	if c := r.Checkpoint; c != nil {
		fmt.Fprintf(stdout, "audit chain intact: %d events, extending the checkpoint of %d events signed at %s\n",
			r.Events, c.Count, c.Time.UTC().Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events\n", r.Events)
	return nil
}

// verifyResult is "audit verify --json": intact or where the chain breaks,
// and the checkpoint it extends (none when Checkpoints is 0: a removal of
// the newest events or a rewrite could then not be detected).
type verifyResult struct {
	Intact           bool   `json:"intact"`
	Events           int64  `json:"events"`
	Checkpoints      int    `json:"checkpoints"`
	CheckpointEvents int64  `json:"checkpoint_events,omitempty"`
	CheckpointTime   string `json:"checkpoint_time,omitempty"`
	BreakSeq         int64  `json:"break_seq,omitempty"`
	BreakReason      string `json:"break_reason,omitempty"`
}

// readCheckpoints reads the signed checkpoints of the file and, with a
// NATS URL, the newest of the audit stream. Without a key there can be no
// checkpoints; a checkpoint file without its key is an error.
func readCheckpoints(ctx context.Context, cfg Config, natsURL string) ([]*audit.Checkpoint, error) {
	key, err := audit.LoadKey(cfg.AuditKeyFile)
	if errors.Is(err, audit.ErrNoKey) {
		if _, statErr := os.Stat(cfg.AuditCheckpoints); statErr == nil || natsURL != "" {
			return nil, fmt.Errorf("checkpoints exist but their key %s does not: give --audit-key", cfg.AuditKeyFile)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	checkpoints, err := audit.ReadCheckpoints(cfg.AuditCheckpoints, key)
	if err != nil {
		return nil, err
	}
	if natsURL != "" {
		bus, err := natsbus.Open(ctx, natsbus.Config{URL: natsURL})
		if err != nil {
			return nil, err
		}
		defer bus.Close()
		note, err := bus.LastCheckpoint(ctx)
		if err != nil {
			return nil, err
		}
		if note != nil {
			c, err := key.Open(note)
			if err != nil {
				return nil, fmt.Errorf("the audit stream's newest checkpoint: %w", err)
			}
			checkpoints = append(checkpoints, c)
		}
	}
	return checkpoints, nil
}
