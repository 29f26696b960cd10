package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
)

// checkpointedData returns a data directory with a few audit events and a
// signed checkpoint of them, as "huella serve" leaves at shutdown.
func checkpointedData(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "huella-data")
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	for _, name := range []string{"ana", "beto", "carla", "dario"} {
		MustAddUser(t, data, "--name", name, "--role", "officer", "--site", "MX-TAP")
	}
	ctx := context.Background()
	app, err := OpenApp(ctx, Config{Data: data}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.StartAuditCheckpoints(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

func verifyAudit(t *testing.T, data string) (string, error) {
	t.Helper()
	var stdout bytes.Buffer
	err := Run(context.Background(), []string{"audit", "verify", "--data", data}, &stdout, io.Discard)
	return stdout.String(), err
}

// TestAuditCheckpoints: with the chain anchored by a signed checkpoint
// outside the data directory, removing the newest events or rewriting one
// with every later hash recomputed makes "audit verify" fail (issue 18,
// finding 2).
func TestAuditCheckpoints(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		data := checkpointedData(t)
		out, err := verifyAudit(t, data)
		if err != nil || !strings.Contains(out, "intact: 5 events, extending the checkpoint of 5 events") {
			t.Fatalf("verify: %v, %q", err, out)
		}
		out = MustRun(t, "audit", "verify", "--data", data, "--json")
		var got verifyResult
		if err := json.Unmarshal([]byte(out), &got); err != nil || !got.Intact || got.Events != 5 || got.Checkpoints != 1 || got.CheckpointEvents != 5 {
			t.Errorf("verify --json = %q (%v), want intact, 5 events, a checkpoint of 5", out, err)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		data := checkpointedData(t)
		db, err := sql.Open("sqlite", filepath.Join(data, "huella.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM audit_events WHERE seq > 3`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		out, err := verifyAudit(t, data)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "truncated") {
			t.Fatalf("verify after removing the newest events: %v, %q; want exit 1 naming a truncation", err, out)
		}
	})
	t.Run("ErrRewritten", func(t *testing.T) {
		data := checkpointedData(t)
		// Rewrite event 2 and recompute every later hash, as a database
		// writer who knows the chain's rule would.
		ctx := context.Background()
		app, err := OpenApp(ctx, Config{Data: data, Existing: true}, newLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		events, err := app.Store.ListAuditEvents(ctx, 0, 100)
		app.Close()
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", filepath.Join(data, "huella.db"))
		if err != nil {
			t.Fatal(err)
		}
		var last *huella.AuditEvent
		for _, e := range events {
			if e.Seq == 2 {
				e.Object = "user/usr_someone_else"
			}
			if e.Seq >= 2 {
				e.Seal(last)
				if _, err := db.Exec(`UPDATE audit_events SET object = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Object, e.PrevHash, e.Hash, e.Seq); err != nil {
					t.Fatal(err)
				}
			}
			last = e
		}
		db.Close()
		if r, err := audit.Verify(ctx, mustStore(t, data)); err != nil || r.Break != nil {
			t.Fatalf("the bare chain after the rewrite: %+v, %v; want intact", r, err)
		}
		out, err := verifyAudit(t, data)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "rewritten") {
			t.Fatalf("verify after a rewrite: %v, %q; want exit 1 naming a rewrite", err, out)
		}
	})
}

// mustStore opens the data directory's store for the test's lifetime.
func mustStore(t *testing.T, data string) huella.Store {
	t.Helper()
	app, err := OpenApp(context.Background(), Config{Data: data, Existing: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app.Store
}
