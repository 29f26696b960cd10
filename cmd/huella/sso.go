package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/console"
)

// signOnFile is the JSON file --sso-config names: the console's OpenID
// Connect client and the rules that map the provider's claims to roles and
// sites. See docs/access.md.
type signOnFile struct {
	Issuer        string               `json:"issuer"`
	ClientID      string               `json:"client_id"`
	ClientSecret  string               `json:"client_secret,omitempty"` // $VAR expanded; default $HUELLA_SSO_CLIENT_SECRET
	RedirectURL   string               `json:"redirect_url"`
	PostLogoutURL string               `json:"post_logout_url,omitempty"`
	Scopes        []string             `json:"scopes,omitempty"`
	UsernameClaim string               `json:"username_claim,omitempty"`
	GroupsClaim   string               `json:"groups_claim,omitempty"`
	SitesClaim    string               `json:"sites_claim,omitempty"`
	Label         string               `json:"label,omitempty"`
	Rules         []console.SignOnRule `json:"rules"`
}

// loadSignOn reads and checks the single sign-on configuration file. A
// client secret written in the file (not taken from the environment)
// requires a file only its owner can read.
func loadSignOn(path string) (*console.SignOn, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{"sso-config", err.Error()}
	}
	var f signOnFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &ConfigError{"sso-config", fmt.Sprintf("%s: %v", path, err)}
	}
	secret := os.ExpandEnv(f.ClientSecret)
	if f.ClientSecret == "" {
		secret = os.Getenv("HUELLA_SSO_CLIENT_SECRET")
	} else if secret == f.ClientSecret {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			return nil, &ConfigError{"sso-config", fmt.Sprintf("%s holds the client secret and others may read it (chmod 600, or take it from $HUELLA_SSO_CLIENT_SECRET)", path)}
		}
	}
	s := &console.SignOn{
		Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: secret, RedirectURL: f.RedirectURL,
		PostLogoutURL: f.PostLogoutURL, Scopes: f.Scopes, UsernameClaim: f.UsernameClaim,
		GroupsClaim: f.GroupsClaim, SitesClaim: f.SitesClaim, Label: f.Label, Rules: f.Rules,
	}
	if err := s.Validate(); err != nil {
		return nil, &ConfigError{"sso-config", huella.ErrorMessage(err)}
	}
	return s, nil
}
