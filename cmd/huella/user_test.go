package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
)

// TestUserCommands adds, lists, rotates, disables and enables users from
// the command line, as an administrator on the box would.
func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	first := MustAddUser(t, data, "--name", "ana.ruiz", "--role", "officer", "--site", "MX-TAP")
	MustAddUser(t, data, "--name", "pnc", "--role", "partner", "--partner", "GT-PNC", "--expires-in-days", "365")

	var stderr bytes.Buffer
	if err := Run(context.Background(), []string{"user", "add", "--data", data, "--name", "long", "--role", "officer",
		"--site", "MX-TAP", "--expires-in-days", "365"}, &bytes.Buffer{}, &stderr); err == nil {
		t.Error("a person's token for 365 days was accepted")
	}

	list := MustRun(t, "user", "list", "--data", data)
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("user list: want a header and two users:\n%s", list)
	}
	rotated := MustRun(t, "user", "rotate", "--data", data, "ana.ruiz")
	m := regexp.MustCompile(`token: (\S+)`).FindStringSubmatch(rotated)
	if m == nil || m[1] == first {
		t.Fatalf("rotate printed no new token:\n%s", rotated)
	}
	MustRun(t, "user", "disable", "--data", data, "ana.ruiz")
	var users []*huella.User
	if err := json.Unmarshal([]byte(MustRun(t, "user", "list", "--data", data, "--json")), &users); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Name == "ana.ruiz" && !u.Disabled {
			t.Errorf("ana.ruiz is not disabled: %+v", u)
		}
		if u.Name == "pnc" && u.TokenExpiresAt.Sub(u.TokenIssuedAt).Hours() != 365*24 {
			t.Errorf("the partner system's token lasts %v, want 365 days", u.TokenExpiresAt.Sub(u.TokenIssuedAt))
		}
	}
	MustRun(t, "user", "enable", "--data", data, "ana.ruiz")
	if err := Run(context.Background(), []string{"user", "disable", "--data", data, "nobody"}, &bytes.Buffer{}, &stderr); err == nil {
		t.Error("disabling an unknown user succeeded")
	}
}
