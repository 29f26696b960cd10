package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpInvocations lists every command and sub-verb with -h, so that a new
// command is covered as soon as it is in the commands, evaluators or
// benches tables.
func helpInvocations() [][]string {
	var list [][]string
	for name := range commands {
		list = append(list, []string{name, "-h"})
	}
	for name := range evaluators {
		list = append(list, []string{"eval", name, "-h"})
	}
	for name := range benches {
		list = append(list, []string{"bench", name, "-h"})
	}
	for _, verb := range [][]string{
		{"nist", "check"}, {"nist", "extract"}, {"iso", "check"}, {"iso", "extract"}, {"finger", "segment"}, {"wsq", "decode"}, {"wsq", "encode"}, {"wsq", "bench"},
		{"site", "add"}, {"site", "list"}, {"user", "add"}, {"user", "list"}, {"user", "disable"}, {"user", "enable"}, {"user", "rotate"}, {"audit", "verify"},
		{"partner", "add"}, {"partner", "list"}, {"partner", "disable"}, {"partner", "enable"},
		{"partner", "agreement"}, {"partner", "agreement", "add"}, {"partner", "agreement", "list"},
		{"partner", "agreement", "revoke"}, {"partner", "deliveries"}, {"partner", "keys"}, {"partner", "rotate-key"},
	} {
		list = append(list, append(verb, "-h"))
	}
	list = append(list, []string{"help"}, []string{"-h"}, []string{"--help"}, []string{"help", "eval"},
		[]string{"eval", "--help"}, []string{"eval", "help"}, []string{"serve", "-help"})
	slices.SortFunc(list, func(a, b []string) int { return strings.Compare(strings.Join(a, " "), strings.Join(b, " ")) })
	return list
}

// TestHelp runs every command's -h: the help goes to stdout, nothing to
// stderr, no error (exit status 0), and no data directory is made. A few
// run as the real binary, to check the exit status itself.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // a default ./huella-data would land here
	for _, args := range helpInvocations() {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("huella %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
			}
			out := strings.ToLower(stdout.String())
			if !strings.Contains(out, "usage") {
				t.Errorf("huella %s: stdout has no usage:\n%s", strings.Join(args, " "), stdout.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("huella %s: stderr = %q, want nothing", strings.Join(args, " "), stderr.String())
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("help made files: %v", entries)
	}
	for _, args := range [][]string{{"help"}, {"eval", "-h"}, {"serve", "--help"}, {"partner", "agreement", "add", "-h"}} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(os.Args[0], args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stdout.Len() == 0 || stderr.Len() > 0 {
			t.Errorf("the binary's huella %s: %v, stdout %d bytes, stderr %q", strings.Join(args, " "), err, stdout.Len(), stderr.String())
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	cmd.Stderr = &stderr
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "Usage") {
		t.Errorf("a bare huella: %v, stderr %q: want the usage on stderr and exit status 2", err, stderr.String())
	}
}

func TestUsageErrors(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoCommand", nil, "help requested"},
		{"UnknownCommand", []string{"frobnicate"}, "unknown command"},
		{"UnknownEngine", []string{"eval", "palm"}, "unknown engine"},
		{"ExtraArgumentSiteList", []string{"site", "list", "--data", data, "extra"}, "unexpected argument"},
		{"ExtraArgumentAudit", []string{"audit", "verify", "--data", data, "extra"}, "unexpected argument"},
		{"ExtraArgumentServe", []string{"serve", "--data", data, "extra"}, "unexpected argument"},
		{"ExtraArgumentVersion", []string{"version", "extra"}, "unexpected argument"},
		{"ExtraArgumentPartnerList", []string{"partner", "list", "--data", data, "extra"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("huella %v: error %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out := MustRun(t, args...)
		if !strings.HasPrefix(out, "huella ") || !strings.Contains(out, "go1.") {
			t.Errorf("huella %v = %q", args, out)
		}
	}
	if out := MustRun(t, "version", "--json"); !strings.Contains(out, `"go":"go1.`) {
		t.Errorf("version --json = %q", out)
	}
}

// TestConfigureTable checks that the README's Configure table lists every
// setting flag of "huella serve" with the variable its help names.
func TestConfigureTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.registerFlags(fs, true)
	variable := regexp.MustCompile(`\$(HUELLA_[A-Z_]+)`)
	fs.VisitAll(func(f *flag.Flag) {
		m := variable.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("--%s names no HUELLA_ variable in its help", f.Name)
			return
		}
		row := "| `--" + f.Name + "` | `" + m[1] + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README Configure table lacks the row %s", row)
		}
	})
}

// TestHelpShowsOnlyFlagsThatApply: a command's -h lists the flags it uses
// and not those of others (the server's listener, checkpoint signing or
// partners' TLS files on "site list").
func TestHelpShowsOnlyFlagsThatApply(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"site", "list"}, []string{"-data", "-postgres", "-json"}, []string{"-addr", "-partner-tls-dir", "-audit-key", "-audit-checkpoint-every", "-tls-cert"}},
		{[]string{"import"}, []string{"-site", "-officer"}, []string{"-addr", "-partner-tls-dir", "-audit-checkpoints"}},
		{[]string{"audit", "verify"}, []string{"-audit-key", "-audit-checkpoints"}, []string{"-audit-checkpoint-every", "-partner-tls-dir", "-addr"}},
		{[]string{"partner", "add"}, []string{"-partner-tls-dir"}, []string{"-audit-key", "-addr"}},
		{[]string{"partner", "list"}, []string{"-json"}, []string{"-partner-tls-dir", "-audit-key"}},
		{[]string{"serve"}, []string{"-addr", "-partner-tls-dir", "-audit-key", "-audit-checkpoint-every"}, nil},
	} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), append(tc.args, "-h"), &stdout, &stderr); err != nil {
			t.Fatalf("huella %v -h: %v", tc.args, err)
		}
		flags := map[string]bool{}
		for _, f := range regexp.MustCompile(`(?m)^\s+(-[a-z-]+)`).FindAllStringSubmatch(stdout.String(), -1) {
			flags[f[1]] = true
		}
		for _, f := range tc.want {
			if !flags[f] {
				t.Errorf("huella %v -h lacks %s", tc.args, f)
			}
		}
		for _, f := range tc.not {
			if flags[f] {
				t.Errorf("huella %v -h shows %s, which it does not use", tc.args, f)
			}
		}
	}
}
