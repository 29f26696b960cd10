package huella_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
)

// TestPartnerCheckFiles: partners' TLS files are accepted only inside the
// configured directory (issue 18, finding 6).
func TestPartnerCheckFiles(t *testing.T) {
	dir := t.TempDir()
	tls := filepath.Join(dir, "partner-tls")
	if err := os.Mkdir(tls, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tls, "ca.pem"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(tls, "shadow.pem")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, dir string
		p         huella.Partner
		ok        bool
	}{
		{"OK", tls, huella.Partner{CAFile: filepath.Join(tls, "ca.pem")}, true},
		{"OKNotYetThere", tls, huella.Partner{ClientCertFile: filepath.Join(tls, "c.pem"), ClientKeyFile: filepath.Join(tls, "c.key")}, true},
		{"OKNoFiles", "", huella.Partner{}, true},
		{"ErrOutside", tls, huella.Partner{CAFile: "/etc/shadow"}, false},
		{"ErrDotDot", tls, huella.Partner{CAFile: tls + "/../../etc/shadow"}, false},
		{"ErrRelative", tls, huella.Partner{CAFile: "ca.pem"}, false},
		{"ErrTheDirItself", tls, huella.Partner{CAFile: tls}, false},
		{"ErrSymlinkOut", tls, huella.Partner{CAFile: filepath.Join(tls, "shadow.pem")}, false},
		{"ErrKeyOutside", tls, huella.Partner{ClientCertFile: filepath.Join(tls, "c.pem"), ClientKeyFile: "/root/.ssh/id_ed25519"}, false},
		{"ErrNoDirConfigured", "", huella.Partner{CAFile: filepath.Join(tls, "ca.pem")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.CheckFiles(tt.dir)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && huella.ErrorCode(err) != huella.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
		})
	}
}

// partners is a hand-written PartnerFinder holding the named partners.
type partners map[string]bool

func (p partners) FindPartner(ctx context.Context, code string) (*huella.Partner, error) {
	if !p[code] {
		return nil, huella.Errorf(huella.ENOTFOUND, "no partner %s", code)
	}
	return &huella.Partner{Code: code}, nil
}

// TestCheckWatchlistOwner: a supervisor creates the program's lists, a
// partner its own, an administrator the program's or an existing
// partner's (issue 18, finding 6).
func TestCheckWatchlistOwner(t *testing.T) {
	known := partners{"GT-PNC": true, "US-CBP": true}
	as := func(u *huella.User) context.Context { return huella.NewContextWithActor(context.Background(), u) }
	sup := as(&huella.User{ID: "usr_s", Role: huella.RoleSupervisor})
	admin := as(&huella.User{ID: "usr_a", Role: huella.RoleAdmin})
	pnc := as(&huella.User{ID: "usr_p", Role: huella.RolePartner, Partner: "GT-PNC"})
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		owner string
		want  string // error code; "" for allowed
	}{
		{"SupervisorProgram", sup, huella.ProgramOwner, ""},
		{"ErrSupervisorForPartner", sup, "GT-PNC", huella.EFORBIDDEN},
		{"ErrSupervisorForNobody", sup, "XX-NONE", huella.EFORBIDDEN},
		{"AdminProgram", admin, huella.ProgramOwner, ""},
		{"AdminForPartner", admin, "US-CBP", ""},
		{"ErrAdminForNobody", admin, "XX-NONE", huella.EINVALID},
		{"PartnerOwn", pnc, "GT-PNC", ""},
		{"ErrPartnerForOther", pnc, "US-CBP", huella.EFORBIDDEN},
		{"ErrPartnerForProgram", pnc, huella.ProgramOwner, huella.EFORBIDDEN},
		{"ErrNoUser", context.Background(), huella.ProgramOwner, huella.EUNAUTHORIZED},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := huella.CheckWatchlistOwner(tt.ctx, tt.owner, known)
			got := ""
			if err != nil {
				got = huella.ErrorCode(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want code %q", err, tt.want)
			}
		})
	}
}
