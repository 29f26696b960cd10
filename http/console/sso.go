package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/huella-abis/huella"
)

// SignOn lets people sign in to the console through an OpenID Connect
// provider (authorization code flow with PKCE). The provider's claims decide
// the role and sites by Rules; a person no rule grants a role is refused.
// Bearer tokens stay for systems and for the API.
type SignOn struct {
	// Issuer is the provider's issuer URL (its discovery document is read
	// at the first sign-in, and again after a failure).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this console's /signin/sso/callback as the provider
	// has it registered, e.g. https://huella.example.org/signin/sso/callback.
	RedirectURL string
	// PostLogoutURL is where the provider sends the browser after sign-out
	// (registered there too); empty: /signin beside RedirectURL.
	PostLogoutURL string
	// Scopes are requested beside openid and profile, e.g. "groups".
	Scopes []string
	// UsernameClaim names the user in Huella (default preferred_username;
	// the subject when it is missing or not a valid user name).
	UsernameClaim string
	// GroupsClaim is the claim rules match when they name none (default
	// "groups").
	GroupsClaim string
	// SitesClaim, when set, is a claim listing site codes that site-scoped
	// roles get besides their rule's sites.
	SitesClaim string
	// Rules map claims to a role and sites: the first rule that matches
	// gives the role; every matching rule of that role adds its sites.
	Rules []SignOnRule
	// Label names the provider on the sign-in page (default "single sign-on").
	Label string
	// StateKey seals the browser's sign-in state from the redirect to the
	// provider to the callback, which another API node may take: every
	// node of a deployment needs the same (cmd/huella derives it from the
	// data keys). Nil: a random key of this process, for one node.
	StateKey []byte `json:"-"`
	// HTTPClient reaches the provider; nil: http.DefaultClient.
	HTTPClient *http.Client
}

// SignOnRule grants Role (and, for officers and examiners, Sites) to the
// people whose claim Claim holds Value (a string, or one of a list).
type SignOnRule struct {
	Claim string      `json:"claim,omitempty"` // default: SignOn.GroupsClaim
	Value string      `json:"value"`
	Role  huella.Role `json:"role"`
	Sites []string    `json:"sites,omitempty"`
}

// Validate reports the first setting that does not hold, as an EINVALID error.
func (s *SignOn) Validate() error {
	issuer, err := url.Parse(s.Issuer)
	switch {
	case s.Issuer == "" || err != nil || issuer.Host == "":
		return huella.Errorf(huella.EINVALID, "sso: issuer must be a URL")
	case issuer.Scheme != "https" && !loopbackHost(issuer.Hostname()):
		return huella.Errorf(huella.EINVALID, "sso: issuer must be https")
	case s.ClientID == "":
		return huella.Errorf(huella.EINVALID, "sso: client ID required")
	case !strings.HasSuffix(s.RedirectURL, "/signin/sso/callback"):
		return huella.Errorf(huella.EINVALID, "sso: redirect URL must end in /signin/sso/callback")
	case len(s.Rules) == 0:
		return huella.Errorf(huella.EINVALID, "sso: at least one rule must map a claim to a role")
	}
	for i, r := range s.Rules {
		switch {
		case r.Value == "":
			return huella.Errorf(huella.EINVALID, "sso: rule %d: value required", i+1)
		case !r.Role.Valid():
			return huella.Errorf(huella.EINVALID, "sso: rule %d: unknown role %q", i+1, r.Role)
		case r.Role == huella.RolePartner:
			return huella.Errorf(huella.EINVALID, "sso: rule %d: partner systems sign in with tokens, not single sign-on", i+1)
		case r.Role.SiteScoped() && len(r.Sites) == 0 && s.SitesClaim == "":
			return huella.Errorf(huella.EINVALID, "sso: rule %d: role %s needs sites (or a sites claim)", i+1, r.Role)
		}
		u := signOnProbe(r.Role, r.Sites)
		if err := u.Validate(); err != nil {
			return huella.Errorf(huella.EINVALID, "sso: rule %d: %s", i+1, huella.ErrorMessage(err))
		}
	}
	return nil
}

// signOnProbe is a user of the role and sites, valid otherwise, to check
// a rule's sites with User.Validate.
func signOnProbe(role huella.Role, sites []string) *huella.User {
	now := time.Unix(0, 0)
	u := &huella.User{Name: "probe", Role: role, Sites: sites}
	u.IssueToken(make([]byte, sha256.Size), now, time.Hour)
	return u
}

func loopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// MapClaims returns the role and sites the rules give to a person with the
// claims, or EFORBIDDEN when no rule grants a role (or a site-scoped role
// ends with no site).
func (s *SignOn) MapClaims(claims map[string]any) (huella.Role, []string, error) {
	var role huella.Role
	var sites []string
	for _, r := range s.Rules {
		claim := r.Claim
		if claim == "" {
			claim = s.groupsClaim()
		}
		if !slices.Contains(claimValues(claims[claim]), r.Value) || (role != "" && r.Role != role) {
			continue
		}
		role = r.Role
		sites = append(sites, r.Sites...)
	}
	if role == "" {
		return "", nil, huella.Errorf(huella.EFORBIDDEN, "no role in Huella for this account")
	}
	if !role.SiteScoped() {
		return role, nil, nil
	}
	if s.SitesClaim != "" {
		sites = append(sites, claimValues(claims[s.SitesClaim])...)
	}
	slices.Sort(sites)
	sites = slices.Compact(sites)
	if len(sites) == 0 {
		return "", nil, huella.Errorf(huella.EFORBIDDEN, "no site in Huella for this account")
	}
	return role, sites, nil
}

func (s *SignOn) groupsClaim() string {
	if s.GroupsClaim == "" {
		return "groups"
	}
	return s.GroupsClaim
}

// claimValues returns a claim's value as strings: a string, a number or a
// boolean as one, a list as its elements.
func claimValues(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, claimValues(x)...)
		}
		return out
	case []string:
		return v
	case map[string]any:
		return nil
	default:
		return []string{fmt.Sprint(v)}
	}
}

// signOnClient is the console's side of the provider, discovered once.
type signOnClient struct {
	cfg    *SignOn
	sealer cipher.AEAD // seals the login's state cookie

	mu       sync.Mutex
	provider *oidc.Provider
	endURL   string // the provider's end_session_endpoint, if any
}

func newSignOnClient(cfg *SignOn) *signOnClient {
	key := make([]byte, 32)
	if cfg.StateKey != nil {
		sum := sha256.Sum256(append([]byte("huella sso state\x00"), cfg.StateKey...))
		key = sum[:]
	} else if _, err := rand.Read(key); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &signOnClient{cfg: cfg, sealer: aead}
}

func (s *signOnClient) context(ctx context.Context) context.Context {
	if s.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, s.cfg.HTTPClient)
	}
	return ctx
}

// discover reads the provider's discovery document the first time.
func (s *signOnClient) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, signOnTimeout)
	defer cancel()
	p, err := oidc.NewProvider(s.context(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discover provider: %w", err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("sso: discovery document: %w", err)
	}
	s.provider, s.endURL = p, extra.EndSession
	return p, nil
}

func (s *signOnClient) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, RedirectURL: s.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID, "profile"}, s.cfg.Scopes...),
	}
}

// pendingLogin is what the browser carries, sealed, from the redirect to
// the provider to the callback.
type pendingLogin struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

const (
	// signOnTimeout bounds each exchange with the provider (discovery,
	// code redemption and key set).
	signOnTimeout = 10 * time.Second
	signOnCookie  = "huella_sso"
	// signOnWindow is how long a person has at the provider to sign in.
	signOnWindow = 10 * time.Minute
)

func (s *signOnClient) seal(p pendingLogin) string {
	data, _ := json.Marshal(p)
	nonce := make([]byte, s.sealer.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.sealer.Seal(nonce, nonce, data, []byte(signOnCookie)))
}

func (s *signOnClient) open(v string) (pendingLogin, bool) {
	var p pendingLogin
	data, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(data) < s.sealer.NonceSize() {
		return p, false
	}
	n := s.sealer.NonceSize()
	plain, err := s.sealer.Open(nil, data[:n], data[n:], []byte(signOnCookie))
	if err != nil || json.Unmarshal(plain, &p) != nil {
		return p, false
	}
	return p, true
}

// handleSignOn sends the browser to the provider to sign in.
func (c *Console) handleSignOn(w http.ResponseWriter, r *http.Request) {
	if c.signOn == nil {
		c.renderError(w, r, nil, huella.Errorf(huella.ENOTFOUND, "no such page"))
		return
	}
	next := localPath(r.URL.Query().Get("next"))
	if !c.cookiesWillStick(r) {
		c.renderSignIn(w, r, http.StatusForbidden, next, "signin.needs_tls")
		return
	}
	p, err := c.signOn.discover(r.Context())
	if err != nil {
		c.cfg.Logger.Error("sso sign-in", "err", err)
		c.renderSignIn(w, r, http.StatusBadGateway, next, "signin.sso_unavailable")
		return
	}
	login := pendingLogin{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: next, Expires: c.cfg.Now().Add(signOnWindow)}
	// Lax, not Strict: the callback is a navigation from the provider's site.
	http.SetCookie(w, &http.Cookie{Name: signOnCookie, Value: c.signOn.seal(login), Path: "/signin/sso", MaxAge: int(signOnWindow / time.Second),
		HttpOnly: true, Secure: !c.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	to := c.signOn.oauth2(p).AuthCodeURL(login.State, oidc.Nonce(login.Nonce), oauth2.S256ChallengeOption(login.Verifier))
	http.Redirect(w, r, to, http.StatusFound)
}

// errSignOn is a sign-in through the provider that did not complete; the
// browser is told to try again, the log says why.
var errSignOn = errors.New("sso sign-in failed")

// handleSignOnCallback takes the provider's answer: it checks the state
// against the browser's cookie, redeems the code with the PKCE verifier,
// verifies the ID token and its nonce, maps its claims to a role and sites,
// and starts a session.
func (c *Console) handleSignOnCallback(w http.ResponseWriter, r *http.Request) {
	if c.signOn == nil {
		c.renderError(w, r, nil, huella.Errorf(huella.ENOTFOUND, "no such page"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signOnCookie, Value: "", Path: "/signin/sso", MaxAge: -1,
		HttpOnly: true, Secure: !c.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	var login pendingLogin
	ok := false
	if ck, err := r.Cookie(signOnCookie); err == nil {
		login, ok = c.signOn.open(ck.Value)
	}
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(login.State)) != 1 || !c.cfg.Now().Before(login.Expires) {
		c.cfg.Logger.Info("sso sign-in refused", "reason", "state missing, wrong or expired")
		c.renderSignIn(w, r, http.StatusBadRequest, "/", "signin.sso_failed")
		return
	}
	if e := q.Get("error"); e != "" {
		c.cfg.Logger.Info("sso sign-in refused by the provider", "error", e)
		c.renderSignIn(w, r, http.StatusUnauthorized, login.Next, "signin.sso_failed")
		return
	}
	user, rawID, err := c.redeem(r.Context(), q.Get("code"), login)
	if err != nil {
		msg, status := "signin.sso_failed", http.StatusBadGateway
		switch huella.ErrorCode(err) {
		case huella.EFORBIDDEN: // no role mapped, or disabled in Huella
			msg, status = "signin.sso_no_role", http.StatusForbidden
			if user != nil && user.Disabled {
				msg = "signin.sso_disabled"
			}
		case huella.ECONFLICT:
			msg, status = "signin.sso_name_taken", http.StatusConflict
		case huella.EINVALID:
			status = http.StatusForbidden
		}
		// No personal data in the log: the user's ID at most.
		id := ""
		if user != nil {
			id = user.ID
		}
		c.cfg.Logger.Warn("sso sign-in refused", "user", id, "err", err)
		c.renderSignIn(w, r, status, login.Next, msg)
		return
	}
	if sess, _ := c.currentSession(r); sess != nil {
		c.endSession(r.Context(), sess.ID)
	}
	sess, err := c.sessions.create(r.Context(), user.ID, nil, rawID)
	if err != nil {
		c.cfg.Logger.Error("sso sign-in", "user", user.ID, "err", err)
		c.renderSignIn(w, r, http.StatusInternalServerError, login.Next, "signin.sso_failed")
		return
	}
	c.setCookie(w, sessionCookie, sess.ID, 0)
	c.setCookie(w, csrfCookie, "", -1)
	c.cfg.Logger.Info("console sign-in", "user", user.ID, "role", user.Role, "via", "sso")
	// A page, not a redirect: browsers withhold the Strict session cookie
	// from a redirect chain that began at another site.
	c.continueTo(w, login.Next)
}

// continueTo answers with a page that moves the browser on to the URL at
// once. After the provider, a redirect would lose the session cookie (see
// above); after the sign-out form, the page's form-action 'self' policy
// would block a redirect to the provider.
func (c *Console) continueTo(w http.ResponseWriter, to string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	continuePage.Execute(w, to)
}

var continuePage = template.Must(template.New("continue").Parse(`<!doctype html>
<meta http-equiv="refresh" content="0; url={{.}}"><title>Huella</title><a href="{{.}}">Huella</a>`))

// redeem exchanges the code, maps the ID token's claims, and returns the
// Huella user who stands for the account (SignOnUser: made at the first
// sign-on, kept in step with the claims), and the raw ID token, the hint
// for sign-out. An account no rule maps is EFORBIDDEN; so is a disabled
// user, returned with the error.
func (c *Console) redeem(ctx context.Context, code string, login pendingLogin) (*huella.User, string, error) {
	cfg := c.signOn.cfg
	p, err := c.signOn.discover(ctx)
	if err != nil {
		return nil, "", err
	}
	// The provider answers within signOnTimeout or the sign-in fails.
	octx, cancel := context.WithTimeout(c.signOn.context(ctx), signOnTimeout)
	defer cancel()
	tok, err := c.signOn.oauth2(p).Exchange(octx, code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return nil, "", fmt.Errorf("%w: redeem code: %w", errSignOn, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, "", fmt.Errorf("%w: no id_token", errSignOn)
	}
	idToken, err := p.VerifierContext(octx, &oidc.Config{ClientID: cfg.ClientID, Now: c.cfg.Now}).Verify(octx, rawID)
	if err != nil {
		return nil, "", fmt.Errorf("%w: verify id token: %w", errSignOn, err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(login.Nonce)) != 1 {
		return nil, "", fmt.Errorf("%w: id token nonce does not match", errSignOn)
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return nil, "", fmt.Errorf("%w: id token claims: %w", errSignOn, err)
	}
	role, sites, err := cfg.MapClaims(claims)
	if err != nil {
		return nil, "", err
	}
	// The token is the hash of nothing anyone holds: a person signs in
	// here, not with a bearer token (an administrator may rotate one).
	hash := sha256.Sum256([]byte(randomToken()))
	u := &huella.User{Role: role, Sites: sites, TokenHash: hash[:], Identity: huella.SignOnIdentity(idToken.Issuer, idToken.Subject)}
	usernameClaim := cfg.UsernameClaim
	if usernameClaim == "" {
		usernameClaim = "preferred_username"
	}
	if names := claimValues(claims[usernameClaim]); len(names) == 1 {
		u.Name = strings.ToLower(names[0])
	}
	probe := *u
	probe.IssueToken(hash[:], c.cfg.Now(), time.Hour)
	if probe.Validate() != nil {
		u.Name = signOnName(u.Identity) // a name Huella does not accept: one made from the account
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	stored, err := c.cfg.Store.SignOnUser(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if stored.Disabled {
		return stored, "", huella.Errorf(huella.EFORBIDDEN, "user disabled")
	}
	return stored, rawID, nil
}

// signOnName is a user name for an account whose own name Huella does not
// accept: "sso-" and a hash of the account.
func signOnName(identity string) string {
	h := sha256.Sum256([]byte(identity))
	return "sso-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:10]))
}

// signedOnUser returns the session's user, read again on every request as
// a token's is, or nils (and the session ends for good) once the user is
// disabled or gone.
func (c *Console) signedOnUser(ctx context.Context, sess *session) (*session, *huella.User) {
	u, err := c.cfg.Store.FindUser(ctx, sess.UserID)
	if err != nil && huella.ErrorCode(err) != huella.ENOTFOUND {
		c.cfg.Logger.Error("console session lookup", "err", err)
		return nil, nil
	}
	if err != nil || u.Disabled {
		c.endSession(ctx, sess.ID)
		return nil, nil
	}
	return sess, u
}

// renderSignIn shows the sign-in page with a message.
func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	v := c.newView(r, nil, w, "signin")
	v.Data = signInPage{Next: next, Error: v.T(msg), SignOn: c.signOnLabel()}
	c.render(w, status, "signin", v)
}

// signOnLabel is the provider's name on the sign-in page, or "" without
// single sign-on.
func (c *Console) signOnLabel() string {
	switch {
	case c.signOn == nil:
		return ""
	case c.signOn.cfg.Label != "":
		return c.signOn.cfg.Label
	}
	return "single sign-on"
}

// signOutURL is where the browser goes after signing out of a session
// opened through the provider: its end-session endpoint, with the ID token
// as the hint and the console's sign-in page to come back to; "" for other
// sessions or a provider without one.
func (c *Console) signOutURL(sess *session) string {
	if c.signOn == nil || sess.IDToken == "" {
		return ""
	}
	c.signOn.mu.Lock()
	end := c.signOn.endURL
	c.signOn.mu.Unlock()
	if end == "" {
		return ""
	}
	back := c.signOn.cfg.PostLogoutURL
	if back == "" {
		back = strings.TrimSuffix(c.signOn.cfg.RedirectURL, "/sso/callback")
	}
	u, err := url.Parse(end)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("id_token_hint", sess.IDToken)
	q.Set("post_logout_redirect_uri", back)
	q.Set("client_id", c.signOn.cfg.ClientID)
	u.RawQuery = q.Encode()
	return u.String()
}
