package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/huella-abis/huella/internal/demo"
)

// runDemo runs "huella demo": Huella on its embedded defaults with a demo
// facility, one user per role and a few encounters, until interrupted.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := newLogger(stderr)
	app, err := OpenApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.StartIdentification(ctx); err != nil {
		return err
	}
	if err := app.WaitIdentification(ctx); err != nil {
		return err
	}
	users, err := demo.Seed(ctx, app.Store, app.Enroll, app.key, app.Enroll.Now())
	if err != nil {
		return err
	}
	if err := app.HTTP.Open(cfg.Addr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Huella demo is running.\n\n  Console: %s/\n  API:     %s/v1  (OpenAPI: %s/openapi.json)\n  Data:    %s\n\nDemo users (send the token as \"Authorization: Bearer TOKEN\"):\n",
		app.HTTP.URL(), app.HTTP.URL(), app.HTTP.URL(), cfg.Data)
	for _, u := range users {
		sites := ""
		if len(u.Sites) > 0 {
			sites = fmt.Sprint(u.Sites)
		}
		fmt.Fprintf(stdout, "  %-11s %-18s %-20s %s\n", u.Role, u.Name, sites, u.Token)
	}
	fmt.Fprintf(stdout, "\nTry:\n  curl -H 'Authorization: Bearer %s' %s/v1/encounters\n\nPress Ctrl-C to stop.\n", users[0].Token, app.HTTP.URL())
	<-ctx.Done()
	return nil
}
