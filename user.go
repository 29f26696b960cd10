package huella

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"strings"
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
// Only the SHA-256 of the token is stored. A token works from its issue
// until it expires, is rotated, or its user is disabled.
type User struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"` // login name, e.g. "maria.lopez"
	Role      Role     `json:"role"`
	Sites     []string `json:"sites,omitempty"`   // site codes, for site-scoped roles
	Partner   string   `json:"partner,omitempty"` // partner code, for the partner role
	TokenHash []byte   `json:"-"`
	Disabled  bool     `json:"disabled,omitempty"`
	// Identity is the single sign-on account the user stands for
	// (SignOnIdentity), empty for a user made with a token.
	Identity  string    `json:"identity,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// TokenIssuedAt and TokenExpiresAt bound the current token's validity;
	// TokenUsedAt is when it was last seen, to within TokenUseInterval
	// (zero: never).
	TokenIssuedAt  time.Time `json:"token_issued_at"`
	TokenExpiresAt time.Time `json:"token_expires_at"`
	TokenUsedAt    time.Time `json:"token_used_at,omitzero"`
}

// Token lifetimes: a person's token lasts at most DefaultTokenLifetime; a
// partner system's may be given up to MaxSystemTokenLifetime.
const (
	DefaultTokenLifetime   = 90 * 24 * time.Hour
	MaxSystemTokenLifetime = 2 * 365 * 24 * time.Hour
)

// TokenUseInterval is how stale a token's recorded last use may be before
// a request records it again: often enough to list tokens by last use,
// rarely enough not to write on every request.
const TokenUseInterval = 10 * time.Minute

// TokenLifetime returns how long a token issued to a user of the role lasts
// when requested lasts (zero: DefaultTokenLifetime), or EINVALID when the
// role may not have it that long.
func TokenLifetime(role Role, requested time.Duration) (time.Duration, error) {
	limit := DefaultTokenLifetime
	if role == RolePartner {
		limit = MaxSystemTokenLifetime
	}
	switch {
	case requested == 0:
		return DefaultTokenLifetime, nil
	case requested < time.Hour:
		return 0, Errorf(EINVALID, "a token lasts at least an hour")
	case requested > limit:
		return 0, Errorf(EINVALID, "a %s's token lasts at most %d days", role, limit/(24*time.Hour))
	}
	return requested, nil
}

// IssueToken gives the user a new token hash, valid from now for lifetime.
func (u *User) IssueToken(hash []byte, now time.Time, lifetime time.Duration) {
	u.TokenHash, u.TokenIssuedAt, u.TokenExpiresAt, u.TokenUsedAt = hash, now, now.Add(lifetime), time.Time{}
}

// TokenExpired reports whether the user's token no longer works at now.
func (u *User) TokenExpired(now time.Time) bool { return !now.Before(u.TokenExpiresAt) }

// TokenUseStale reports whether a use of the token at now should be recorded.
func (u *User) TokenUseStale(now time.Time) bool { return now.Sub(u.TokenUsedAt) >= TokenUseInterval }

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
	case !u.TokenExpiresAt.After(u.TokenIssuedAt):
		return Errorf(EINVALID, "user token expires before it is issued")
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

// Audit actions on users (user.create is with the others in audit.go).
const (
	ActionUserDisable     = "user.disable"
	ActionUserEnable      = "user.enable"
	ActionUserRotateToken = "user.rotate-token"
	ActionUserSignOn      = "user.sign-on" // a sign-in through the identity provider
	ActionUserUpdate      = "user.update"  // role or sites changed by the provider's claims
)

// SignOnIdentity names the account subject of the identity provider issuer,
// as a User's Identity.
func SignOnIdentity(issuer, subject string) string { return issuer + " " + subject }

// SortByTokenUse orders users by their token's last use, the most recent
// first and those never used last (by name among equals): the order in
// which an administrator reviews which tokens are still needed.
func SortByTokenUse(users []*User) {
	slices.SortStableFunc(users, CompareTokenUse)
}

// CompareTokenUse is SortByTokenUse's order: negative when a comes before b.
func CompareTokenUse(a, b *User) int {
	if c := b.TokenUsedAt.Compare(a.TokenUsedAt); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// TakeAccess gives u, the stored user of a single sign-on account, the role
// and sites its provider's claims now grant (from), validated as any user
// is, and reports whether they changed. Every store applies it when the
// account signs on again.
func (u *User) TakeAccess(from *User) (changed bool, err error) {
	if u.Role == from.Role && slices.Equal(u.Sites, from.Sites) {
		return false, nil
	}
	probe := *u
	probe.Role, probe.Sites = from.Role, from.Sites
	if err := probe.Validate(); err != nil {
		return false, err
	}
	u.Role, u.Sites = from.Role, nil
	if len(from.Sites) > 0 {
		u.Sites = slices.Clone(from.Sites)
	}
	return true, nil
}
