package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sitelink"
)

const siteUsage = "huella site add --code MX-TAP --name NAME --country MEX --tz America/Mexico_City | huella site list [--json] | huella site creds --code MX-TIJ --out FILE"

// runSite runs "huella site add" and "huella site list".
func runSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := fmt.Errorf("usage: %s", siteUsage)
	if len(args) == 0 {
		return usage
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage.Error())
	}
	var cfg Config
	var site huella.Site
	var asJSON bool
	var credsOut string
	var fs = newFlagSet("site "+args[0], siteUsage, stderr)
	switch args[0] {
	case "add":
		fs = newFlagSet("site add", "huella site add --code MX-TAP --name NAME --country MEX --tz America/Mexico_City", stderr)
		fs.StringVar(&site.Code, "code", "", "site code, e.g. MX-TAP")
		fs.StringVar(&site.Name, "name", "", "facility name")
		fs.StringVar(&site.Country, "country", "", "ISO 3166-1 alpha-3 country code, e.g. MEX")
		fs.StringVar(&site.TimeZone, "tz", "", "IANA time zone, e.g. America/Mexico_City")
	case "list":
		fs = newFlagSet("site list", "huella site list [--json]", stderr)
		fs.BoolVar(&asJSON, "json", false, "print one JSON object per site")
	case "creds":
		fs = newFlagSet("site creds", "huella site creds --code MX-TIJ --out FILE", stderr)
		fs.StringVar(&site.Code, "code", "", "the site node's site code, e.g. MX-TIJ")
		fs.StringVar(&credsOut, "out", "", "file the site's credentials are written to (give it to the site node's --hub-creds)")
	default:
		return usage
	}
	cfg.registerFlags(fs, false)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	cfg.Existing = args[0] != "add"
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	ctx = systemContext(ctx, huella.PurposeAdministration)
	switch args[0] {
	case "add":
		if err := app.Store.CreateSite(ctx, &site); err != nil {
			return fmt.Errorf("add site: %s", huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "site %s created\n", site.Code)
	case "creds":
		return writeSiteCreds(ctx, app, site.Code, credsOut, stdout)
	case "list":
		sites, err := app.Store.ListSites(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			for _, s := range sites {
				if err := writeJSONLine(stdout, s); err != nil {
					return err
				}
			}
			return nil
		}
		writeHeader(stdout, "CODE", "COUNTRY", "TIME_ZONE", "NAME")
		for _, s := range sites {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", s.Code, s.Country, s.TimeZone, s.Name)
		}
	}
	return nil
}

// writeSiteCreds makes a key pair for the site's node: the seed goes to
// out (mode 0600; an existing file is not replaced), the public key to
// DATA/site-keys/CODE.pub, which a center serving --leafnodes reads at
// start. A new key replaces the site's old one at the next start.
func writeSiteCreds(ctx context.Context, app *App, code, out string, stdout io.Writer) error {
	if out == "" {
		return &ConfigError{"out", "give the file to write the credentials to"}
	}
	if _, err := app.Store.FindSite(ctx, code); err != nil {
		return fmt.Errorf("site %s: %s", code, huella.ErrorMessage(err))
	}
	seed, public, err := sitelink.NewSiteKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	fmt.Fprintf(f, "# Huella site node credentials of %s: an NATS nkey seed. Keep it secret.\n%s\n", code, seed)
	if err := f.Close(); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if err := os.MkdirAll(siteKeyDir(app.Config.Data), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(siteKeyDir(app.Config.Data), code+".pub"), []byte(public+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "site %s: credentials written to %s; the center allows key %s from its next start\n", code, out, public)
	return nil
}

// writeHeader writes the header line of a table. Tables are tab-separated
// (for cut -f and column -t) with one upper-case header line; --json gives
// one JSON object per row instead.
func writeHeader(w io.Writer, columns ...string) {
	fmt.Fprintln(w, strings.Join(columns, "\t"))
}
