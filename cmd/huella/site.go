package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/huella-abis/huella"
)

// runSite runs "huella site add" and "huella site list".
func runSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := fmt.Errorf("usage: huella site add --code MX-TAP --name NAME --country MEX --tz America/Mexico_City | huella site list")
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		// Asking for help (site -h) or a typo opens nothing.
		return usage
	}
	var cfg Config
	fs := flag.NewFlagSet("site "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	var site huella.Site
	if args[0] == "add" {
		fs.StringVar(&site.Code, "code", "", "site code, e.g. MX-TAP")
		fs.StringVar(&site.Name, "name", "", "facility name")
		fs.StringVar(&site.Country, "country", "", "ISO 3166-1 alpha-3 country code, e.g. MEX")
		fs.StringVar(&site.TimeZone, "tz", "", "IANA time zone, e.g. America/Mexico_City")
	}
	if err := fs.Parse(args[1:]); err != nil {
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
		for _, s := range sites {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", s.Code, s.Country, s.TimeZone, s.Name)
		}
	default:
		return usage
	}
	return nil
}
