package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/partnersim"
)

// runDemo runs "huella demo": Huella on its embedded defaults with two
// facilities, one user per role, three encounters (one person seen twice
// under two names), a partner agency receiving in a simulator beside it,
// and a watchlist hit waiting for an examiner, until interrupted.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	app, err := startServing(ctx, "demo", args, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	partnerURL, stopSim, err := startPartnerSim(app.HTTP.URL(), app.Logger.With("component", "partner-sim"))
	if err != nil {
		return err
	}
	defer stopSim()
	if err := app.WaitIdentification(ctx); err != nil {
		return err
	}
	if err := demo.SeedPartner(ctx, app.Store, partnerURL); err != nil {
		return err
	}
	users, err := demo.Seed(ctx, app.Store, app.Enroll, app.key, app.Enroll.Now())
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == huella.RolePartner {
			err = demo.SeedWatchlist(ctx, app.Store, app.Enroll, u.User)
		}
	}
	if err != nil {
		return err
	}
	url := app.HTTP.URL()
	fmt.Fprintf(stdout, "Huella demo is running.\n\n  Console: %s/\n  API:     %s/v1  (OpenAPI: %s/openapi.json)\n  Data:    %s\n  Partner: %s (a simulated partner agency receiving deliveries)\n\nDemo users (sign in to the console, or send \"Authorization: Bearer TOKEN\"):\n",
		url, url, url, app.Config.Data, partnerURL)
	for _, u := range users {
		sites := ""
		if len(u.Sites) > 0 {
			sites = fmt.Sprint(u.Sites)
		}
		fmt.Fprintf(stdout, "  %-11s %-18s %-20s %s\n", u.Role, u.Name, sites, u.Token)
	}
	fmt.Fprintf(stdout, "\nTry:\n  curl -H 'Authorization: Bearer %s' %s/v1/encounters\n\nPress Ctrl-C to stop.\n", users[0].Token, url)
	<-ctx.Done()
	return nil
}

// startPartnerSim serves a partner simulator on a free loopback port; it
// verifies deliveries against the keys the demo publishes.
func startPartnerSim(huellaURL string, logger *slog.Logger) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sim := partnersim.New(nil)
	sim.JWKSURL = huellaURL + "/.well-known/jwks.json"
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("partner simulator stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String() + "/deliveries", func() { srv.Close() }, nil
}
