package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/huella-abis/huella"
)

// Session lifetimes unless configured.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// Cookie names.
const (
	sessionCookie = "huella_session"
	csrfCookie    = "huella_csrf" // the CSRF token before sign-in
	langCookie    = "huella_lang"
)

// session is a signed-in browser. It keeps the hash of the user's token,
// never the token, and looks the user up again on every request, so that
// disabling a user or rotating the token ends their sessions at once.
type session struct {
	ID        string
	TokenHash []byte
	CSRF      string
	Started   time.Time
	LastSeen  time.Time
	// UserID is the user of a session opened through single sign-on
	// (empty for a token's session), looked up on every request like a
	// token, and IDToken the provider's ID token, the hint for signing
	// out there too.
	UserID  string
	IDToken string
	// Result is the outcome of the last enrollment, shown once after the
	// redirect that follows it (IDs and counts only).
	Result *enrollResult
}

// sessionStore keeps sessions in memory: a restart signs everyone out.
type sessionStore struct {
	mu        sync.Mutex
	byID      map[string]*session
	now       func() time.Time
	idle, max time.Duration
}

func newSessionStore(now func() time.Time, idle, max time.Duration) *sessionStore {
	return &sessionStore{byID: make(map[string]*session), now: now, idle: idle, max: max}
}

func (s *sessionStore) create(tokenHash []byte) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, x := range s.byID { // sweep expired sessions at each sign-in
		if s.expired(x, now) {
			delete(s.byID, id)
		}
	}
	sess := &session{ID: randomToken(), TokenHash: tokenHash, CSRF: randomToken(), Started: now, LastSeen: now}
	s.byID[sess.ID] = sess
	return sess
}

// get returns the live session with the ID and marks it seen, or nil.
func (s *sessionStore) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[id]
	if sess == nil {
		return nil
	}
	now := s.now()
	if s.expired(sess, now) {
		delete(s.byID, id)
		return nil
	}
	sess.LastSeen = now
	return sess
}

func (s *sessionStore) expired(x *session, now time.Time) bool {
	return now.Sub(x.LastSeen) > s.idle || now.Sub(x.Started) > s.max
}

func (s *sessionStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// takeResult returns the session's last enrollment result and forgets it.
func (s *sessionStore) takeResult(sess *session) *enrollResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := sess.Result
	sess.Result = nil
	return r
}

func (s *sessionStore) setResult(sess *session, r *enrollResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.Result = r
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// currentSession returns the request's session and its user, or nils.
func (c *Console) currentSession(r *http.Request) (*session, *huella.User) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	sess := c.sessions.get(ck.Value)
	if sess == nil {
		return nil, nil
	}
	if sess.UserID != "" {
		return c.signedOnUser(r.Context(), sess)
	}
	u, err := c.userByToken(r.Context(), sess.TokenHash)
	if err != nil {
		if huella.ErrorCode(err) != huella.EUNAUTHORIZED {
			c.cfg.Logger.Error("console session lookup", "err", err)
			return nil, nil
		}
		// Disabled, rotated or expired: the session ends for good, even
		// should the user be enabled again.
		c.sessions.delete(sess.ID)
		return nil, nil
	}
	return sess, u
}

// userByToken returns the user whose token hashes to hash, at the console's
// every request as at the API's: EUNAUTHORIZED for an unknown, rotated or
// expired token or a disabled user. It records the token's use.
func (c *Console) userByToken(ctx context.Context, hash []byte) (*huella.User, error) {
	u, err := c.cfg.Store.FindUserByTokenHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(u.TokenHash, hash) != 1 {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "invalid token")
	}
	now := c.cfg.Now()
	if u.TokenExpired(now) {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "token expired")
	}
	if u.TokenUseStale(now) {
		if err := c.cfg.Store.RecordTokenUse(ctx, u.ID, now); err != nil {
			c.cfg.Logger.Warn("record token use", "user", u.ID, "err", err)
		}
	}
	return u, nil
}

// sessionUser returns the signed-in user of the request, or nil.
func (c *Console) sessionUser(r *http.Request) *huella.User {
	_, u := c.currentSession(r)
	return u
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: !c.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode,
	})
}

// csrfFor returns the CSRF token that forms on the page must carry: the
// session's once signed in, else a token in its own cookie (set here).
func (c *Console) csrfFor(w http.ResponseWriter, r *http.Request) string {
	if sess, u := c.currentSession(r); u != nil {
		return sess.CSRF
	}
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	token := randomToken()
	if w != nil {
		c.setCookie(w, csrfCookie, token, 0)
	}
	return token
}

// validCSRF reports whether the form's csrf field matches want.
func (c *Console) validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// anonymousCSRF reports whether a form posted before sign-in carries the
// token of its cookie.
func (c *Console) anonymousCSRF(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	return err == nil && len(ck.Value) >= 32 && c.validCSRF(r, ck.Value)
}

type signInPage struct {
	Next   string
	Error  string
	SignOn string // the single sign-on provider's label, if configured
}

func (c *Console) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	if u := c.sessionUser(r); u != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := c.newView(r, nil, w, "signin")
	v.Data = signInPage{Next: localPath(r.URL.Query().Get("next")), SignOn: c.signOnLabel()}
	c.render(w, http.StatusOK, "signin", v)
}

// handleSignIn checks the API token and starts a session.
func (c *Console) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, huella.Errorf(huella.EINVALID, "malformed form"))
		return
	}
	// A session already open has its own token; a form posted before
	// sign-in carries the cookie's.
	sess, u := c.currentSession(r)
	if !(u != nil && c.validCSRF(r, sess.CSRF)) && !c.anonymousCSRF(r) {
		c.renderError(w, r, nil, errCSRF)
		return
	}
	next := localPath(r.PostFormValue("next"))
	if !c.cookiesWillStick(r) {
		v := c.newView(r, nil, w, "signin")
		v.Data = signInPage{Next: next, Error: v.T("signin.needs_tls"), SignOn: c.signOnLabel()}
		c.render(w, http.StatusForbidden, "signin", v)
		return
	}
	token := r.PostFormValue("token")
	hash := huella.HashToken(token)
	user, err := c.userByToken(r.Context(), hash)
	if token == "" || err != nil {
		if err != nil && huella.ErrorCode(err) != huella.EUNAUTHORIZED {
			c.renderError(w, r, nil, err)
			return
		}
		c.cfg.Logger.Info("console sign-in refused")
		v := c.newView(r, nil, w, "signin")
		v.Data = signInPage{Next: next, Error: v.T("signin.invalid"), SignOn: c.signOnLabel()}
		c.render(w, http.StatusUnauthorized, "signin", v)
		return
	}
	if sess != nil {
		c.sessions.delete(sess.ID)
	}
	sess = c.sessions.create(hash)
	c.setCookie(w, sessionCookie, sess.ID, 0)
	c.setCookie(w, csrfCookie, "", -1)
	c.cfg.Logger.Info("console sign-in", "user", user.ID, "role", user.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// cookiesWillStick reports whether the browser will keep the Secure
// session cookie: over TLS (here or at a trusted proxy that says so), or from a
// loopback address, which browsers treat as secure. Elsewhere a sign-in
// would loop back to the form without a word, so it is refused with a
// message instead.
func (c *Console) cookiesWillStick(r *http.Request) bool {
	if c.cfg.InsecureCookies || r.TLS != nil || (c.cfg.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request, req *request) {
	c.sessions.delete(req.session.ID)
	c.setCookie(w, sessionCookie, "", -1)
	if to := c.signOutURL(req.session); to != "" {
		c.continueTo(w, to) // and out of the provider too
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// handleLanguage sets the language cookie and goes back to the page.
func (c *Console) handleLanguage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, huella.Errorf(huella.EINVALID, "malformed form"))
		return
	}
	sess, u := c.currentSession(r)
	if !(u != nil && c.validCSRF(r, sess.CSRF)) && !c.anonymousCSRF(r) {
		c.renderError(w, r, u, errCSRF)
		return
	}
	lang := r.PostFormValue("lang")
	if _, ok := catalogs[lang]; !ok {
		c.renderError(w, r, u, huella.Errorf(huella.EINVALID, "unknown language"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: !c.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// language is the cookie's language, else the browser's first supported
// one, else Spanish.
func (c *Console) language(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogs[ck.Value]; ok {
			return ck.Value
		}
	}
	for _, part := range splitComma(r.Header.Get("Accept-Language")) {
		if len(part) >= 2 {
			if _, ok := catalogs[part[:2]]; ok {
				return part[:2]
			}
		}
	}
	return "es"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// splitComma splits an Accept-Language header into its language tags.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if i := strings.IndexByte(p, ';'); i >= 0 {
			p = p[:i]
		}
		if p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}
