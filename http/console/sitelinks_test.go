package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/http/console"
)

// TestSiteLinks: the sites page shows each site's link to the center (up
// or down, encounters waiting and for how long, the last contact) when
// the node has site links, and no such columns when it has none.
func TestSiteLinks(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := mustOpen(t)
		e.siteLinks = func(context.Context) map[string]console.SiteLink {
			return map[string]console.SiteLink{
				"MX-CDMX": {Linked: true, LastContact: time.Now().Add(-5 * time.Second), Queue: -1},
				"MX-TAP":  {Linked: false, Queue: 3, Oldest: time.Now().Add(-2 * time.Minute)},
			}
		}
		e.srv = httptestTLS(t, e)
		code, body := e.signIn("admin").get("/sites")
		if code != 200 {
			t.Fatalf("sites: %d", code)
		}
		for _, want := range []string{"Enlace con el centro", ">conectado<", ">sin conexión<", ">3 <span", "la más antigua hace 2m", "hace 5s"} {
			if !strings.Contains(body, want) {
				t.Errorf("the sites page lacks %q:\n%s", want, body)
			}
		}
	})
	t.Run("NoLinks", func(t *testing.T) {
		e := MustOpenEnv(t)
		if _, body := e.signIn("admin").get("/sites"); strings.Contains(body, "Enlace con el centro") {
			t.Errorf("a node without site links shows their column")
		}
	})
}
