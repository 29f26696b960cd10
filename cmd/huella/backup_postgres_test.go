package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/pgtest"
)

// TestPostgresBackupDocumented runs the PostgreSQL backup and restore
// commands of the README (Deploy, Backups) as written: pg_dump, a copy of
// the blobs, pg_restore into a new database, audit verify, and checks that
// every image decrypts there.
func TestPostgresBackupDocumented(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, tool := range []string{"pg_dump", "pg_restore", "rsync"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (CI must run this test)", tool)
			}
			t.Skipf("%s is missing: the documented PostgreSQL backup is not tested here", tool)
		}
	}
	src, dst := mustDatabase(t), mustDatabase(t)
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--postgres", src, "--code", "MX-BENCH", "--name", "Backup test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--postgres", src, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")

	// Enroll two encounters through the API (no biometric search: the
	// engines are not loaded, which the backup does not care about).
	app, err := OpenApp(context.Background(), Config{Data: data, Postgres: src}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.HTTP.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		body, ct := benchRequest(i, images)
		req, _ := http.NewRequest("POST", app.HTTP.URL()+"/v1/encounters", body)
		req.Header.Set("Authorization", "Bearer "+officer)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("enroll: %d %s", resp.StatusCode, b)
		}
	}
	app.Close()

	// The README's commands, with its variable names.
	backup, restored, bin := t.TempDir(), t.TempDir(), t.TempDir()
	// "huella" in the blocks is this test binary acting as the real one.
	wrapper := "#!/bin/sh\nHUELLA_RUN_MAIN=1 exec " + os.Args[0] + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "huella"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HUELLA_POSTGRES="+src, "HUELLA_DATA="+data, "BACKUP="+backup, "NEW_POSTGRES="+dst, "NEW_DATA="+restored)
	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command("sh", "-ec", script)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	sh(readmeBlock(t, "postgres-backup"))
	key, _ := os.ReadFile(data + ".key")
	os.WriteFile(restored+".key", key, 0o600) // kept apart, brought back by hand
	if out := sh(readmeBlock(t, "postgres-restore")); !strings.Contains(out, "audit chain intact") {
		t.Errorf("the restore block's audit verify printed %q", out)
	}

	if out := MustRun(t, "audit", "verify", "--postgres", dst, "--data", restored); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify after pg_restore = %q", out)
	}
	app, err = OpenApp(context.Background(), Config{Data: restored, Postgres: dst}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx := systemContext(context.Background(), huella.PurposeAdministration)
	encounters, err := app.Store.ListEncounters(ctx, huella.EncounterFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(encounters) != 2 {
		t.Fatalf("%d encounters restored, want 2", len(encounters))
	}
	for _, e := range encounters {
		for _, s := range e.Samples {
			if _, err := app.Blobs.Get(ctx, s.ImageRef); err != nil {
				t.Fatalf("encounter %s sample %s: %v", e.ID, s.ID, err)
			}
		}
	}
}

// readmeBlock returns the shell block of README.md that follows the
// comment <!-- test: NAME -->.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- test: "+name+" -->")
	if !ok {
		t.Fatalf("README.md has no block %q", name)
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("README.md block %q is not closed", name)
	}
	return block
}

// mustDatabase creates a database on the test server, dropped when the
// test ends, and returns its DSN.
func mustDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.MustDatabase(t, "huella_backup_")
}
