package huella

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"time"
)

// Role is what a user may do. Officers and examiners work only at their sites.
type Role string

// Roles, from the most to the least common.
const (
	RoleOfficer    Role = "officer"    // enrolls encounters at their sites
	RoleExaminer   Role = "examiner"   // adjudicates candidates and hits at their sites
	RoleSupervisor Role = "supervisor" // reads everything of the program, all sites
	RoleAuditor    Role = "auditor"    // reads the audit trail and reports
	RolePartner    Role = "partner"    // a partner agency's system: its own watchlists and receipts
	RoleAdmin      Role = "admin"      // manages users, sites and partners
)

// Roles lists every role.
var Roles = []Role{RoleOfficer, RoleExaminer, RoleSupervisor, RoleAuditor, RolePartner, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// SiteScoped reports whether the role is limited to the user's sites.
func (r Role) SiteScoped() bool { return r == RoleOfficer || r == RoleExaminer }

// User is a person or partner system that calls Huella with an API token.
// Only the SHA-256 of the token is stored.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // login name, e.g. "maria.lopez"
	Role      Role      `json:"role"`
	Sites     []string  `json:"sites,omitempty"`   // site codes, for site-scoped roles
	Partner   string    `json:"partner,omitempty"` // partner code, for the partner role
	TokenHash []byte    `json:"-"`
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

var userNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// Validate reports the first rule the user breaks, as an EINVALID error.
func (u *User) Validate() error {
	switch {
	case !userNamePattern.MatchString(u.Name):
		return Errorf(EINVALID, "user name must be 2-64 lowercase letters, digits, dots, dashes or underscores")
	case !u.Role.Valid():
		return Errorf(EINVALID, "unknown role %q", u.Role)
	case u.Role.SiteScoped() && len(u.Sites) == 0:
		return Errorf(EINVALID, "role %s needs at least one site", u.Role)
	case len(u.TokenHash) != sha256.Size:
		return Errorf(EINVALID, "user token hash missing")
	}
	for _, s := range u.Sites {
		if !siteCodePattern.MatchString(s) {
			return Errorf(EINVALID, "user site %q is not a site code", s)
		}
	}
	return nil
}

// CanAccessSite reports whether the user may see and act on records of the site.
func (u *User) CanAccessSite(site string) bool {
	if !u.Role.SiteScoped() {
		return true
	}
	return slices.Contains(u.Sites, site)
}

// CanReadSubject reports whether the user may read the subject: users of
// every site may, site-scoped users when the subject has an encounter at
// one of their sites. The subject view then shows the encounters at other
// sites only as when, where and why (RedactedEncounter).
func (u *User) CanReadSubject(s *Subject) bool {
	if !u.Role.SiteScoped() {
		return true
	}
	for _, e := range s.Encounters {
		if u.CanAccessSite(e.SiteCode) {
			return true
		}
	}
	return false
}

// HashToken returns the stored form of an API token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
