package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestReadOnlyCommandsCreateNothing asks for help and points read-only
// commands at a directory that does not exist: each must fail (or print
// its usage) and leave no data behind (issue 18, finding 7).
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "WRONG")
	t.Chdir(dir) // the default data directory is ./huella-data
	for _, args := range [][]string{
		{"site", "-h"},
		{"site", "--help"},
		{"site"},
		{"site", "list", "--data", wrong},
		{"audit", "verify", "--data", wrong},
		{"audit", "verify"},
		{"partner", "list", "--data", wrong},
		{"partner", "deliveries", "--data", wrong},
		{"partner", "keys", "--data", wrong},
		{"partner", "agreement", "list", "--data", wrong},
		{"export", "--data", wrong, "enc_1", filepath.Join(dir, "out.an2")},
		{"purge", "--data", wrong, "--orphans"},
		{"user", "list", "--data", wrong},
		{"user", "-h"},
	} {
		err := Run(context.Background(), args, io.Discard, io.Discard)
		// Help succeeds (issue 20: -h prints to stdout, exit 0); anything
		// else pointed at a missing directory fails. Neither creates data.
		if help := wantsHelp(args[1:]); err == nil && !help {
			t.Errorf("huella %q succeeded, want an error", args)
		} else if err != nil && help {
			t.Errorf("huella %q: %v, want the help", args, err)
		}
		for _, p := range []string{wrong, filepath.Join(dir, "huella-data")} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("huella %q created %s", args, p)
			}
		}
	}
}
