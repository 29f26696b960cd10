package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/huella-abis/huella"
)

const siteUsage = "huella site add --code MX-TAP --name NAME --country MEX --tz America/Mexico_City | huella site list [--json]"

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
	default:
		return usage
	}
	cfg.registerFlags(fs, false)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	cfg.Existing = args[0] == "list"
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

// writeHeader writes the header line of a table. Tables are tab-separated
// (for cut -f and column -t) with one upper-case header line; --json gives
// one JSON object per row instead.
func writeHeader(w io.Writer, columns ...string) {
	fmt.Fprintln(w, strings.Join(columns, "\t"))
}
