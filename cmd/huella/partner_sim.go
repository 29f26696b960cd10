package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/partnersim"
)

// runPartnerSim runs "huella partner-sim": a partner agency's receiving
// end that verifies signatures against Huella's JWKS, applies each
// Idempotency-Key once and can be told (POST /control) to fail, hang or
// be slow. It serves until interrupted.
func runPartnerSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("partner-sim", "huella partner-sim --jwks URL | --jwks-file F [flags]", stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	jwksURL := fs.String("jwks", "", "URL of Huella's keys, e.g. http://127.0.0.1:8080/.well-known/jwks.json")
	jwksFile := fs.String("jwks-file", "", "file of Huella's keys (huella partner keys > keys.json), instead of --jwks")
	dir := fs.String("dir", "", "directory to keep each applied delivery's body in (empty: memory only)")
	mode := fs.String("mode", "ok", "initial mode: ok, fail, hang, slow or lose-ack")
	delay := fs.Duration("delay", time.Second, "delay of the slow mode")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if (*jwksURL == "") == (*jwksFile == "") {
		return errors.New("partner-sim: give exactly one of --jwks and --jwks-file")
	}
	sim := partnersim.New(nil)
	sim.JWKSURL = *jwksURL
	if *jwksFile != "" {
		data, err := os.ReadFile(*jwksFile)
		if err != nil {
			return fmt.Errorf("partner-sim: %w", err)
		}
		var keys forward.JWKS
		if err := json.Unmarshal(data, &keys); err != nil {
			return fmt.Errorf("partner-sim: %s: %w", *jwksFile, err)
		}
		sim.SetKeys(&keys)
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fmt.Errorf("partner-sim: %w", err)
		}
		sim.Dir = *dir
	}
	sim.SetMode(partnersim.Mode(*mode), *delay)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("partner-sim: %w", err)
	}
	server := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(ln)
	fmt.Fprintf(stdout, "partner simulator receiving at http://%s/deliveries (GET /received, POST /control)\n", ln.Addr())
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return server.Shutdown(shutdown)
}
