package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/isomap"
	"github.com/huella-abis/huella/nistmap"
)

// runImport runs "huella import --site CODE --officer NAME FILE|DIR…": each
// ANSI/NIST-ITL transaction (every file of a directory, recursively) is
// enrolled as an encounter, identified like any other; what cannot be
// mapped stays in the original transaction. A file that cannot be read or
// imported is reported and the import goes on.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	site := fs.String("site", "", "site code the encounters belong to")
	officer := fs.String("officer", "", "user name of the officer the encounters are enrolled by")
	reason := fs.String("reason", "detention", "encounter reason: apprehension, detention, transfer or release")
	asJSON := fs.Bool("json", false, "print one JSON object per file instead of a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *site == "" || *officer == "" {
		return fmt.Errorf("usage: huella import --site CODE --officer NAME [--json] FILE|DIR…")
	}
	paths, err := importPaths(fs.Args())
	if err != nil {
		return err
	}
	cfg.Existing = true // works on records already there; never creates data
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	user, err := findUser(ctx, app.Store, *officer)
	if err != nil {
		return err
	}
	if err := app.StartIdentification(ctx); err != nil {
		return err
	}
	if err := app.WaitIdentification(ctx); err != nil {
		return err
	}
	ctx = huella.NewContextWithPurpose(huella.NewContextWithActor(ctx, user), huella.PurposeEnforcement)
	failed := 0
	p := newProgress(stderr, "import", len(paths))
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.Add(1)
		data, err := os.ReadFile(path)
		var req *enroll.Request
		var notes []string
		if err == nil {
			req, notes, err = nistmap.Import(data, nistmap.ImportOptions{Site: *site, Reason: huella.Reason(*reason)})
		}
		if err == nil {
			_, err = app.Enroll.Enroll(ctx, req)
		}
		if err != nil {
			failed++
			if *asJSON {
				writeJSONLine(stdout, importResult{File: path, Error: huella.ErrorMessage(err)})
				continue
			}
			fmt.Fprintf(stdout, "%s: not imported: %s\n", path, huella.ErrorMessage(err))
			continue
		}
		e := req.Encounter
		decision := ""
		if e.Identification != nil {
			decision = string(e.Identification.Decision)
		}
		if *asJSON {
			writeJSONLine(stdout, importResult{File: path, Encounter: e.ID, Subject: e.SubjectID, Decision: decision, Samples: len(e.Samples), Notes: notes})
			continue
		}
		fmt.Fprintf(stdout, "%s: encounter %s, subject %s (%s), %d samples\n", path, e.ID, e.SubjectID, decision, len(e.Samples))
		for _, n := range notes {
			fmt.Fprintf(stdout, "  note: %s\n", n)
		}
	}
	p.Done()
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d files not imported", failed, len(paths))}
	}
	return nil
}

// importResult is the --json line of one imported (or refused) file: IDs
// and counts only, never a biographic value.
type importResult struct {
	File      string   `json:"file"`
	Encounter string   `json:"encounter,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	Decision  string   `json:"decision,omitempty"`
	Samples   int      `json:"samples,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// importPaths expands the arguments: a file is itself, a directory every
// regular file under it (hidden ones skipped), in name order.
func importPaths(args []string) ([]string, error) {
	var paths []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil || !info.IsDir() {
			paths = append(paths, arg) // a missing file is reported with the others
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != arg {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				paths = append(paths, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// findUser returns the enabled user with the name.
func findUser(ctx context.Context, store huella.Store, name string) (*huella.User, error) {
	users, err := store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Name, name) && !u.Disabled {
			return u, nil
		}
	}
	return nil, fmt.Errorf("no user %q", name)
}

// exportUsage is the export command's synopsis.
const exportUsage = "usage: huella export [--format nist|iso|cbeff] [--iso-version 2005|2011] [--profile ebts|inti] [--tot TOT] [--ori ORI] [--retention Y|N] [--arrest-offense TEXT] [--cri ORI] ENCOUNTER OUT"

// runExport runs "huella export [--format nist|iso|cbeff] ENCOUNTER OUT":
// the encounter as an EBTS-style ANSI/NIST transaction (OUT.an2), as
// ISO/IEC 19794 records (OUT a directory: finger.iso, iris.iso, face.iso)
// or as a CBEFF XML container of them (OUT.xml), audited as an export.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	ori := fs.String("ori", "HUELLA", "originating agency identifier (1.008), for --format nist")
	profileName := fs.String("profile", "", "transaction profile for --format nist: ebts (FBI EBTS) or inti (INTERPOL INT-I)")
	tot := fs.String("tot", "", "transaction type (1.004) for --format nist; default CAR, or the profile's first")
	retention := fs.String("retention", "", "retention code (2.005 RET, Y or N) for --format nist; EBTS requires it in a CAR or CNA")
	offense := fs.String("arrest-offense", "", "arrest offense literal (2.047 ASL) for --format nist; EBTS requires it in a CAR or CNA")
	cri := fs.String("cri", "", "controlling agency identifier (2.073 CRI) for --format nist; default the --ori")
	isoVersion := fs.Int("iso-version", 2005, "edition of the face record for --format iso or cbeff: 2005 (JPEG, JPEG 2000; other faces as JPEG) or 2011 (PNG kept lossless); finger and iris records are 2011")
	format := fs.String("format", "nist", "nist (ANSI/NIST-ITL transaction), iso (ISO/IEC 19794 records in the directory OUT) or cbeff (CBEFF XML of ISO records)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New(exportUsage)
	}
	if *format != "nist" && *format != "iso" && *format != "cbeff" {
		return fmt.Errorf("export: --format %q: nist, iso or cbeff", *format)
	}
	if *isoVersion != 2005 && *isoVersion != 2011 {
		return fmt.Errorf("export: --iso-version %d: 2005 or 2011", *isoVersion)
	}
	var profile *ansinist.Profile
	if *profileName != "" {
		if profile = ansinist.Profiles[*profileName]; profile == nil || *format != "nist" {
			return fmt.Errorf("export: --profile %q: ebts or inti, with --format nist", *profileName)
		}
	}
	nistOpt := nistmap.ExportOptions{Originator: *ori, Profile: profile, TransactionType: strings.ToUpper(*tot),
		Retention: *retention, ArrestOffense: *offense, ControllingAgency: *cri}
	if err := nistOpt.Validate(); err != nil {
		return fmt.Errorf("export: %s", huella.ErrorMessage(err))
	}
	cfg.Existing = true // works on records already there; never creates data
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	ctx = systemContext(ctx, huella.PurposeForwarding)
	e, err := app.Store.FindEncounter(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("export: %s", huella.ErrorMessage(err))
	}
	images := func(s *huella.Sample) ([]byte, error) { return app.Blobs.Get(ctx, s.ImageRef) }
	files := map[string][]byte{} // path: contents
	detail := "ansi/nist file, command line"
	switch *format {
	case "nist":
		data, err := nistmap.Export(e, images, nistOpt)
		if err != nil {
			return err
		}
		files[fs.Arg(1)] = data
	case "iso":
		recs, err := isomap.ExportWith(e, images, isomap.Options{FaceVersion: *isoVersion})
		if err != nil {
			return fmt.Errorf("export: %s", huella.ErrorMessage(err))
		}
		for name, data := range map[string][]byte{"finger.iso": recs.FingerImage, "iris.iso": recs.Iris, "face.iso": recs.Face} {
			if data != nil {
				files[filepath.Join(fs.Arg(1), name)] = data
			}
		}
		if len(files) == 0 {
			return errors.New("export: the encounter has no finger, face or iris sample")
		}
		if err := os.MkdirAll(fs.Arg(1), 0o700); err != nil {
			return err
		}
		detail = "iso/iec 19794 records, command line"
	case "cbeff":
		data, err := isomap.ExportCBEFFWith(e, images, isomap.Options{FaceVersion: *isoVersion})
		if err != nil {
			return fmt.Errorf("export: %s", huella.ErrorMessage(err))
		}
		files[fs.Arg(1)] = data
		detail = "cbeff xml, command line"
	}
	event := huella.NewAuditEvent(ctx, huella.ActionExport, "encounter/"+e.ID, e.SiteCode)
	event.Detail = detail
	if err := app.Store.AppendAudit(ctx, event); err != nil {
		return err
	}
	paths := slices.Sorted(maps.Keys(files))
	for _, path := range paths {
		if err := os.WriteFile(path, files[path], 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "encounter %s written to %s (%d bytes)\n", e.ID, path, len(files[path]))
	}
	return nil
}
