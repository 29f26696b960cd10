package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/huella-abis/huella"
	hhttp "github.com/huella-abis/huella/http"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runUser runs "huella user add": it creates a user and prints its API
// token, which is shown only this once.
func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "huella user add --name NAME --role ROLE [--site CODE]... [--partner CODE]"
	if len(args) > 0 && isHelp(args[0]) {
		return printHelp(stdout, "usage: "+usage)
	}
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: %s", usage)
	}
	var cfg Config
	var sites stringList
	fs := newFlagSet("user add", usage, stderr)
	cfg.registerFlags(fs, false)
	name := fs.String("name", "", "login name, e.g. maria.lopez")
	role := fs.String("role", "", "officer, examiner, supervisor, auditor, partner or admin")
	partner := fs.String("partner", "", "partner code, for the partner role")
	fs.Var(&sites, "site", "site code the user works at (repeatable; officers and examiners)")
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	token := hhttp.NewToken()
	u := &huella.User{Name: *name, Role: huella.Role(*role), Sites: sites, Partner: *partner, TokenHash: huella.HashToken(token)}
	if err := app.Store.CreateUser(systemContext(ctx, huella.PurposeAdministration), u); err != nil {
		return fmt.Errorf("add user: %s", huella.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "user %s (%s) created\ntoken: %s\n", u.Name, u.ID, token)
	return nil
}
