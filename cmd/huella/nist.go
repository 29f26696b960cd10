package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella/ansinist"
)

// runNist runs "huella nist check [--strict] FILE…" and
// "huella nist extract FILE DIR".
func runNist(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := errors.New("usage: huella nist check [--strict] [--profile ebts|inti] FILE… | huella nist extract FILE DIR")
	if len(args) == 0 {
		return usage
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage.Error())
	}
	switch args[0] {
	case "check":
		return runNistCheck(ctx, args[1:], stdout, stderr)
	case "extract":
		return runNistExtract(ctx, args[1:], stdout, stderr)
	}
	return usage
}

// runNistCheck prints one line per file: its summary, or the error. It
// fails (exit 1) when any file does not parse, or in strict mode violates
// the standard.
func runNistCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nist check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "fail on any violation of the standard, naming record and field")
	asJSON := fs.Bool("json", false, "print one JSON object per file (file, ok, summary or error)")
	profileName := fs.String("profile", "", "also check the fields a transaction profile requires: ebts (FBI EBTS) or inti (INTERPOL INT-I)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: huella nist check [--strict] [--json] [--profile ebts|inti] FILE…")
	}
	var profile *ansinist.Profile
	if *profileName != "" {
		if profile = ansinist.Profiles[*profileName]; profile == nil {
			return fmt.Errorf("nist check: --profile %q: ebts or inti", *profileName)
		}
	}
	mode := ansinist.Lenient
	if *strict {
		mode = ansinist.Strict
	}
	failed := 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := checkFile(path, mode, profile)
		if *asJSON {
			r := struct {
				File    string `json:"file"`
				OK      bool   `json:"ok"`
				Summary string `json:"summary,omitempty"`
				Error   string `json:"error,omitempty"`
			}{File: path, OK: err == nil, Summary: line}
			if err != nil {
				failed++
				r.Summary, r.Error = "", err.Error()
			}
			if err := writeJSONLine(stdout, r); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%s: FAIL %v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok %s\n", path, line)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("nist check: %d of %d files failed", failed, fs.NArg())}
	}
	return nil
}

// checkFile reads one transaction and, with a profile, fails on every
// field the profile requires and the transaction lacks.
func checkFile(path string, mode ansinist.Mode, profile *ansinist.Profile) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tx, err := ansinist.Decode(data, mode)
	if err != nil {
		return "", err
	}
	if profile != nil {
		if v := ansinist.ValidateProfile(tx, profile); len(v) > 0 {
			return "", fmt.Errorf("%s profile: %w", profile.Specification, &ansinist.ValidationError{Violations: v})
		}
		return tx.Summary() + ", " + profile.Specification + " profile ok", nil
	}
	return tx.Summary(), nil
}

// runNistExtract writes every image of a transaction to DIR as
// <record type>-<IDC>-<position>.png, or with the encoded bytes as they
// are (.jp2, .jpg, …) when the compression cannot be decoded.
func runNistExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nist extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: huella nist extract FILE DIR")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	tx, err := ansinist.Read(data)
	if err != nil {
		return err
	}
	dir := fs.Arg(1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	used := map[string]bool{}
	for _, r := range tx.Records {
		if err := ctx.Err(); err != nil {
			return err
		}
		img, ok := r.Image()
		if !ok {
			continue
		}
		name := r.ImageName()
		for i := 2; used[name]; i++ { // repeated IDCs: keep every image
			name = fmt.Sprintf("%s_%d", r.ImageName(), i)
		}
		used[name] = true
		m, decodeErr := img.Decode()
		if decodeErr != nil {
			path := filepath.Join(dir, name+img.Extension())
			if err := os.WriteFile(path, img.Data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s (not decoded: %v)\n", path, decodeErr)
			continue
		}
		path := filepath.Join(dir, name+".png")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = png.Encode(f, m)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		b := m.Bounds()
		fmt.Fprintf(stdout, "%s %dx%d %s\n", path, b.Dx(), b.Dy(), strings.ToLower(img.Compression))
	}
	return nil
}
