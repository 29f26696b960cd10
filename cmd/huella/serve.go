package main

import (
	"context"
	"fmt"
	"io"
)

// runServe runs "huella serve": the API and console on --addr until
// interrupted.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	app, err := startServing(ctx, "serve", args, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	app.Logger.Info("serving", "url", app.HTTP.URL())
	fmt.Fprintf(stdout, "Huella is serving at %s\n", app.HTTP.URL())
	<-ctx.Done()
	app.Logger.Info("shutting down")
	return nil
}

// startServing parses the flags of a serving command, opens the app, starts
// identification and forwarding, and listens. The caller closes the app.
func startServing(ctx context.Context, name string, args []string, stderr io.Writer) (*App, error) {
	var cfg Config
	fs := newFlagSet(name, "huella "+name+" [flags]", stderr)
	cfg.registerFlags(fs, true)
	if err := parseFlags(fs, args, 0); err != nil {
		return nil, err
	}
	if name == "demo" {
		cfg.AllowKeyInData = true // a demonstration's data is not to keep
	}
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return nil, err
	}
	for _, start := range []func(context.Context) error{app.StartIdentification, app.StartGalleryEvents, app.StartSiteLinks, app.StartForwarding, app.StartAuditCheckpoints, app.StartReencryption} {
		if err := start(ctx); err != nil {
			app.Close()
			return nil, err
		}
	}
	app.HTTP.MetricsToken = cfg.MetricsToken
	if cfg.MetricsAddr != "" {
		if err := app.HTTP.OpenMetrics(cfg.MetricsAddr); err != nil {
			app.Close()
			return nil, err
		}
	}
	if err := app.HTTP.Open(cfg.Addr); err != nil {
		app.Close()
		return nil, err
	}
	return app, nil
}
