package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runServe runs "huella serve": the API on --addr until interrupted.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
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
	if err := app.StartForwarding(ctx); err != nil {
		return err
	}
	if err := app.HTTP.Open(cfg.Addr); err != nil {
		return err
	}
	logger.Info("serving", "url", app.HTTP.URL())
	fmt.Fprintf(stdout, "Huella is serving at %s\n", app.HTTP.URL())
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}
