package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestImportDirectory imports a folder holding a good transaction and a
// bad file: the good one is enrolled, the bad one reported, the import
// goes on and fails at the end, with progress on stderr.
func TestImportDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the engines")
	}
	sample, err := os.ReadFile(datasets.Path(t, "ansinist/nist-reference/samples-nist/sample.an2"))
	if err != nil {
		t.Fatal(err)
	}
	data, dir := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(dir, "batch"), 0o700)
	os.WriteFile(filepath.Join(dir, "batch", "a-good.an2"), sample, 0o600)
	os.WriteFile(filepath.Join(dir, "batch", "b-bad.an2"), []byte("not a transaction"), 0o600)
	os.WriteFile(filepath.Join(dir, ".hidden.an2"), []byte("skipped"), 0o600)
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-TAP")
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), []string{"import", "--data", data, "--site", "MX-TAP", "--officer", "officer", dir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 files not imported") {
		t.Errorf("import: %v, want 1 of 2 files not imported\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "a-good.an2: encounter enc_") || !strings.Contains(out, "b-bad.an2: not imported") || strings.Contains(out, "hidden") {
		t.Errorf("import output:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "import: 2 of 2 (100%)") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
	// --json: one object per file, the refusal in it.
	stdout.Reset()
	bad := filepath.Join(dir, "batch", "b-bad.an2")
	Run(context.Background(), []string{"import", "--data", data, "--site", "MX-TAP", "--officer", "officer", "--json", bad}, &stdout, io.Discard)
	var got importResult
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.File != bad || got.Error == "" || got.Encounter != "" {
		t.Errorf("import --json = %q (%v), want the file and its error", stdout.String(), err)
	}
}
