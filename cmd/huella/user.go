package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/huella-abis/huella"
	hhttp "github.com/huella-abis/huella/http"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

const userUsage = `usage:
  huella user add --name NAME --role ROLE [--site CODE]... [--partner CODE] [--expires-in-days N]
  huella user list [--sort name|last-used] [--json]
  huella user disable NAME
  huella user enable NAME
  huella user rotate [--expires-in-days N] NAME`

// runUser runs "huella user VERB": add a user (the API token is printed
// this once), list users and their tokens, disable or enable a user, or
// rotate a user's token.
func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	if isHelp(args[0]) {
		return printHelp(stdout, userUsage)
	}
	verb := args[0]
	var cfg Config
	fs := flag.NewFlagSet("user "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	var run func(context.Context, *App) error
	switch verb {
	case "add":
		var sites stringList
		name := fs.String("name", "", "login name, e.g. maria.lopez")
		role := fs.String("role", "", "officer, examiner, supervisor, auditor, partner or admin")
		partner := fs.String("partner", "", "partner code, for the partner role")
		days := fs.Int("expires-in-days", 0, "token lifetime in days: at most 90 for people (the default), 730 for partner systems")
		fs.Var(&sites, "site", "site code the user works at (repeatable; officers and examiners)")
		run = func(ctx context.Context, app *App) error {
			lifetime, err := huella.TokenLifetime(huella.Role(*role), time.Duration(*days)*24*time.Hour)
			if err != nil {
				return fmt.Errorf("add user: %s", huella.ErrorMessage(err))
			}
			token := hhttp.NewToken()
			u := &huella.User{Name: *name, Role: huella.Role(*role), Sites: sites, Partner: *partner}
			u.IssueToken(huella.HashToken(token), time.Now(), lifetime)
			if err := app.Store.CreateUser(ctx, u); err != nil {
				return fmt.Errorf("add user: %s", huella.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "user %s (%s) created, token expires %s\ntoken: %s\n", u.Name, u.ID, u.TokenExpiresAt.Format(time.DateOnly), token)
			return nil
		}
	case "list":
		sort := fs.String("sort", "name", "name, or last-used: the most recently used token first")
		asJSON := fs.Bool("json", false, "print the users as JSON")
		run = func(ctx context.Context, app *App) error {
			users, err := app.Store.ListUsers(ctx)
			if err != nil {
				return err
			}
			switch *sort {
			case "name":
			case "last-used":
				huella.SortByTokenUse(users)
			default:
				return fmt.Errorf("user list: --sort must be name or last-used")
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(users)
			}
			return writeUsers(stdout, users)
		}
	case "disable", "enable":
		run = func(ctx context.Context, app *App) error {
			u, err := findUserArg(ctx, app, fs.Args())
			if err != nil {
				return err
			}
			if u, err = app.Store.SetUserDisabled(ctx, u.ID, verb == "disable"); err != nil {
				return fmt.Errorf("%s user: %s", verb, huella.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "user %s (%s) %sd\n", u.Name, u.ID, verb)
			return nil
		}
	case "rotate":
		days := fs.Int("expires-in-days", 0, "the new token's lifetime in days, as for add")
		run = func(ctx context.Context, app *App) error {
			u, err := findUserArg(ctx, app, fs.Args())
			if err != nil {
				return err
			}
			lifetime, err := huella.TokenLifetime(u.Role, time.Duration(*days)*24*time.Hour)
			if err != nil {
				return fmt.Errorf("rotate token: %s", huella.ErrorMessage(err))
			}
			token := hhttp.NewToken()
			if u, err = app.Store.RotateToken(ctx, u.ID, huella.HashToken(token), time.Now().Add(lifetime)); err != nil {
				return fmt.Errorf("rotate token: %s", huella.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "user %s (%s): new token, expires %s; the old one no longer works\ntoken: %s\n",
				u.Name, u.ID, u.TokenExpiresAt.Format(time.DateOnly), token)
			return nil
		}
	default:
		return fmt.Errorf("user: unknown verb %q\n%s", verb, userUsage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if verb == "add" || verb == "list" {
		if fs.NArg() > 0 {
			return fmt.Errorf("user %s: unexpected argument %q", verb, fs.Arg(0))
		}
	}
	cfg.Existing = verb != "add" // only adding the first user may start a data directory
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	return run(systemContext(ctx, huella.PurposeAdministration), app)
}

// findUserArg returns the user named by the one argument: a login name or
// a user ID.
func findUserArg(ctx context.Context, app *App, args []string) (*huella.User, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("name one user (login name or ID)\n%s", userUsage)
	}
	users, err := app.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Name == args[0] || u.ID == args[0] {
			return u, nil
		}
	}
	return nil, fmt.Errorf("no user %q", args[0])
}

// writeUsers prints the users as a table with a header.
func writeUsers(w io.Writer, users []*huella.User) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tROLE\tSITES\tSTATE\tTOKEN EXPIRES\tTOKEN LAST USED")
	for _, u := range users {
		state, used := "enabled", "never"
		if u.Disabled {
			state = "disabled"
		}
		if u.Identity != "" {
			state += ",sso" // signs in through the identity provider
		}
		if !u.TokenUsedAt.IsZero() {
			used = u.TokenUsedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.ID, u.Role, strings.Join(u.Sites, ","), state,
			u.TokenExpiresAt.Format(time.RFC3339), used)
	}
	return tw.Flush()
}
