package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

// Session lifetimes unless configured.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// The rate limit of token sign-ins: after MaxFailedSignIns failures from one
// client address in a window of SignInWindow (fixed, counted in the store
// and so shared by every API node), the form refuses that address until
// the window ends, before it looks at the token.
const (
	MaxFailedSignIns = 20
	SignInWindow     = 15 * time.Minute
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
	// UserID is the session's user. A session opened through single
	// sign-on (nil TokenHash) looks the user up by it on every request,
	// as a token's session does by the token; IDToken is the provider's
	// ID token, the hint for signing out there too.
	UserID  string
	IDToken string
	// Result is the outcome of the last enrollment, shown once after the
	// redirect that follows it (IDs and counts only).
	Result *enrollResult
}

// sessionPrivate is what a session keeps that only the console reads,
// sealed in the store under a key made from the session's ID.
type sessionPrivate struct {
	IDToken string        `json:"t,omitempty"`
	Result  *enrollResult `json:"r,omitempty"`
}

// sessionTouch is how stale a session's last request may be before a
// request records a new one: one write per session and minute, not one
// per request. A session may end up to this much before its idle time.
const sessionTouch = time.Minute

// sessionStore keeps sessions in the database (huella.SessionStore), so
// that every API node serves every session and a restart signs no one out.
type sessionStore struct {
	db        huella.SessionStore
	now       func() time.Time
	idle, max time.Duration
}

func newSessionStore(db huella.SessionStore, now func() time.Time, idle, max time.Duration) *sessionStore {
	return &sessionStore{db: db, now: now, idle: idle, max: max}
}

// create starts a session for the user (signed in with the token of hash,
// or through single sign-on with a nil hash), sweeping expired ones.
func (s *sessionStore) create(ctx context.Context, userID string, tokenHash []byte, idToken string) (*session, error) {
	now := s.now()
	sess := &session{ID: randomToken(), UserID: userID, TokenHash: tokenHash, CSRF: randomToken(),
		Started: now, LastSeen: now, IDToken: idToken}
	private, err := sealPrivate(sess)
	if err != nil {
		return nil, err
	}
	err = s.db.CreateSession(ctx, &huella.Session{ID: sess.ID, UserID: userID, TokenHash: tokenHash,
		CSRF: sess.CSRF, Private: private, StartedAt: now, SeenAt: now}, now.Add(-s.idle), now.Add(-s.max))
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// get returns the live session with the ID and marks it seen, or nil (and
// the error should the store fail).
func (s *sessionStore) get(ctx context.Context, id string) (*session, error) {
	x, err := s.db.FindSession(ctx, id)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if now.Sub(x.SeenAt) > s.idle || now.Sub(x.StartedAt) > s.max {
		return nil, s.db.DeleteSession(ctx, id)
	}
	sess := &session{ID: id, TokenHash: x.TokenHash, CSRF: x.CSRF, Started: x.StartedAt, LastSeen: x.SeenAt, UserID: x.UserID}
	if p, ok := openPrivate(id, x.Private); ok {
		sess.IDToken, sess.Result = p.IDToken, p.Result
	}
	if now.Sub(x.SeenAt) >= sessionTouch {
		if err := s.db.TouchSession(ctx, id, now, nil); huella.ErrorCode(err) == huella.ENOTFOUND {
			return nil, nil // signed out meanwhile, on this node or another
		} else if err != nil {
			return nil, err
		}
		sess.LastSeen = now
	}
	return sess, nil
}

func (s *sessionStore) delete(ctx context.Context, id string) error {
	return s.db.DeleteSession(ctx, id)
}

// takeResult returns the session's last enrollment result and forgets it.
func (s *sessionStore) takeResult(ctx context.Context, sess *session) (*enrollResult, error) {
	r := sess.Result
	if r == nil {
		return nil, nil
	}
	sess.Result = nil
	return r, s.savePrivate(ctx, sess)
}

func (s *sessionStore) setResult(ctx context.Context, sess *session, r *enrollResult) error {
	sess.Result = r
	return s.savePrivate(ctx, sess)
}

func (s *sessionStore) savePrivate(ctx context.Context, sess *session) error {
	private, err := sealPrivate(sess)
	if err != nil {
		return err
	}
	if private == nil {
		private = []byte{}
	}
	return s.db.TouchSession(ctx, sess.ID, s.now(), private)
}

// privateAEAD is the cipher of a session's private data: AES-256-GCM under
// a key made from the session's ID, which the store never holds.
func privateAEAD(id string) cipher.AEAD {
	mac := hmac.New(sha256.New, []byte(id))
	mac.Write([]byte("huella console session private data"))
	block, _ := aes.NewCipher(mac.Sum(nil))
	aead, _ := cipher.NewGCM(block)
	return aead
}

// sealPrivate seals the session's ID token and result, or returns nil when
// it has neither.
func sealPrivate(sess *session) ([]byte, error) {
	if sess.IDToken == "" && sess.Result == nil {
		return nil, nil
	}
	data, err := json.Marshal(sessionPrivate{IDToken: sess.IDToken, Result: sess.Result})
	if err != nil {
		return nil, fmt.Errorf("console: session data: %w", err)
	}
	aead := privateAEAD(sess.ID)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("console: session data: %w", err)
	}
	return aead.Seal(nonce, nonce, data, []byte(sessionCookie)), nil
}

// openPrivate opens what sealPrivate sealed; false for nothing or data that
// does not open (the session then carries on without it).
func openPrivate(id string, sealed []byte) (sessionPrivate, bool) {
	var p sessionPrivate
	aead := privateAEAD(id)
	if len(sealed) < aead.NonceSize() {
		return p, false
	}
	n := aead.NonceSize()
	data, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(sessionCookie))
	if err != nil || json.Unmarshal(data, &p) != nil {
		return p, false
	}
	return p, true
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
	sess, err := c.sessions.get(r.Context(), ck.Value)
	if err != nil {
		c.cfg.Logger.Error("console session lookup", "err", err)
		return nil, nil
	}
	if sess == nil {
		return nil, nil
	}
	if sess.TokenHash == nil {
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
		c.endSession(r.Context(), sess.ID)
		return nil, nil
	}
	return sess, u
}

// endSession ends the session, logging a store that fails to.
func (c *Console) endSession(ctx context.Context, id string) {
	if err := c.sessions.delete(ctx, id); err != nil {
		c.cfg.Logger.Error("console session end", "err", err)
	}
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
	// Failed sign-ins are counted per client address in the store, so
	// that the limit holds across every API node.
	limitKey := "console-signin:" + c.clientAddress(r)
	failed, err := c.cfg.Store.Attempts(r.Context(), limitKey, SignInWindow)
	if err != nil {
		c.renderError(w, r, nil, err)
		return
	}
	if failed >= MaxFailedSignIns {
		c.cfg.Logger.Warn("console sign-in refused", "reason", "too many failed sign-ins")
		v := c.newView(r, nil, w, "signin")
		v.Data = signInPage{Next: next, Error: v.T("signin.limited"), SignOn: c.signOnLabel()}
		w.Header().Set("Retry-After", fmt.Sprint(int(SignInWindow/time.Second)))
		c.render(w, http.StatusTooManyRequests, "signin", v)
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
		if _, err := c.cfg.Store.CountAttempt(r.Context(), limitKey, SignInWindow); err != nil {
			c.cfg.Logger.Error("count failed sign-in", "err", err)
		}
		c.cfg.Logger.Info("console sign-in refused")
		v := c.newView(r, nil, w, "signin")
		v.Data = signInPage{Next: next, Error: v.T("signin.invalid"), SignOn: c.signOnLabel()}
		c.render(w, http.StatusUnauthorized, "signin", v)
		return
	}
	if sess != nil {
		c.endSession(r.Context(), sess.ID)
	}
	sess, err = c.sessions.create(r.Context(), user.ID, hash, "")
	if err != nil {
		c.renderError(w, r, nil, err)
		return
	}
	c.setCookie(w, sessionCookie, sess.ID, 0)
	c.setCookie(w, csrfCookie, "", -1)
	c.cfg.Logger.Info("console sign-in", "user", user.ID, "role", user.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientAddress is the address a request came from: the connection's
// peer, or with TrustProxy the address the proxy saw (the last entry of
// X-Forwarded-For, the one the trusted proxy added).
func (c *Console) clientAddress(r *http.Request) string {
	if c.cfg.TrustProxy {
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			parts := strings.Split(fwd[len(fwd)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				return last
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
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
	if err := c.sessions.delete(r.Context(), req.session.ID); err != nil {
		c.renderError(w, r, req.user, err) // not signed out: say so
		return
	}
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
