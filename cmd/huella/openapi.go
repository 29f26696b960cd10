package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"

	hhttp "github.com/huella-abis/huella/http"
)

// runOpenAPI runs "huella openapi": it prints the OpenAPI document the
// server serves at /openapi.json, without a data directory (for linters
// and client generators).
func runOpenAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("openapi", "huella openapi > openapi.json", stderr)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	srv := hhttp.NewServer(nil, nil, nil, slog.New(slog.DiscardHandler))
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(srv.OpenAPI())
}
