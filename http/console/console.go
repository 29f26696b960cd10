// Package console serves Huella's web console: server-rendered pages for
// officers, examiners, supervisors, auditors and administrators, in Spanish
// and English, with its templates, styles, scripts and message catalogues
// embedded in the binary.
//
// It follows the JSON API's rules: the same roles may open the same kinds of
// records, site-scoped users see only their sites, and every read of
// personal data is appended to the audit trail before it is shown.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
	"github.com/huella-abis/huella/internal/admit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the console needs: the records, the images, the services
// that enroll and adjudicate, and a clock. The console is a client of the
// services: every rule they enforce (who may decide a hit, the two-person
// rule, merges kept in step with the gallery) holds in the console because
// it goes through them.
type Config struct {
	Store      huella.Database
	Blobs      huella.BlobStore
	Enroll     *enroll.Service     // required
	Adjudicate *adjudicate.Service // required
	Logger     *slog.Logger
	Now        func() time.Time // time.Now when nil
	// InsecureCookies drops the Secure flag from cookies, for a console
	// served over plain HTTP on a network (browsers accept Secure cookies
	// from http://localhost and http://127.0.0.1 already). Never set it
	// where the console is reachable by others without TLS.
	InsecureCookies bool
	// TrustProxy believes a reverse proxy's X-Forwarded-Proto (as the API
	// server's TrustProxy).
	TrustProxy bool
	// Uploads admits the forms that carry images (the API's gate, so both
	// share one memory budget and one set of decode slots); nil: a gate of
	// the console's own with the defaults.
	Uploads *admit.Gate
	// PartnerFileDir is the only directory partners' TLS files may be
	// named in (huella.Partner.CheckFiles); empty accepts none.
	PartnerFileDir string
	// SessionIdle and SessionMax end a session after that long without a
	// request, or that long after sign-in (DefaultSessionIdle and
	// DefaultSessionMax when zero).
	SessionIdle, SessionMax time.Duration
	// SignOn, when set, offers sign-in through an OpenID Connect provider
	// beside the token form (sso.go).
	SignOn *SignOn
	// SiteLinks, when set, returns the state of each site's link to the
	// center, by site code, for the sites page: a center's view of every
	// site, or a site node's of its own.
	SiteLinks func(ctx context.Context) map[string]SiteLink
}

// SiteLink is what the sites page shows of one site's link to the center.
type SiteLink struct {
	Linked bool
	// LastContact is when the center last heard from the site (zero:
	// never, or not known here).
	LastContact time.Time
	// Queue is how many encounters wait at the site for the center (-1:
	// not known here); Oldest when the oldest of them was queued.
	Queue  int
	Oldest time.Time
}

// Console is the web console, an http.Handler for every path the API does
// not claim.
type Console struct {
	cfg      Config
	mux      *http.ServeMux
	sessions *sessionStore
	origin   *http.CrossOriginProtection
	signOn   *signOnClient // nil without single sign-on
}

// New returns the console over the configured store, blob store and
// services. It fails without the enrollment or the adjudication service.
func New(cfg Config) (*Console, error) {
	if cfg.Enroll == nil || cfg.Adjudicate == nil {
		return nil, errors.New("console: the enrollment and adjudication services are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	if cfg.Uploads == nil {
		cfg.Uploads = admit.NewGate(0, 0)
	}
	c := &Console{
		cfg:      cfg,
		mux:      http.NewServeMux(),
		sessions: newSessionStore(cfg.Store, cfg.Now, cfg.SessionIdle, cfg.SessionMax),
		origin:   http.NewCrossOriginProtection(),
	}
	if cfg.SignOn != nil {
		c.signOn = newSignOnClient(cfg.SignOn)
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	c.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/huella.svg", http.StatusMovedPermanently)
	})
	c.mux.HandleFunc("GET /signin", c.handleSignInForm)
	c.mux.HandleFunc("POST /signin", c.handleSignIn)
	c.mux.HandleFunc("GET /signin/sso", c.handleSignOn)
	c.mux.HandleFunc("GET /signin/sso/callback", c.handleSignOnCallback)
	c.mux.HandleFunc("POST /lang", c.handleLanguage)
	c.mux.Handle("POST /signout", c.page(access.Everyone, c.handleSignOut))
	c.mux.Handle("GET /{$}", c.page(access.Everyone, c.handleHome))
	c.mux.Handle("GET /dashboard", c.page(access.Stats, c.handleDashboard))
	c.mux.Handle("GET /enroll", c.page(access.Officers, c.handleEnrollForm))
	c.mux.Handle("POST /enroll", c.upload(access.Officers, c.handleEnroll))
	c.mux.Handle("GET /enroll/result", c.page(access.Officers, c.handleEnrollResult))
	c.mux.Handle("POST /quality", c.upload(access.Officers, c.handleQuality))
	c.mux.Handle("GET /identify", c.page(access.Readers, c.handleIdentifyForm))
	c.mux.Handle("POST /identify", c.upload(access.Readers, c.handleIdentify))
	c.mux.Handle("GET /encounters", c.page(access.Readers, c.handleEncounters))
	c.mux.Handle("GET /encounters/{id}", c.page(access.Readers, c.handleEncounter))
	c.mux.Handle("GET /subjects/{id}", c.page(access.Readers, c.handleSubject))
	c.mux.Handle("POST /subjects/{id}/purge", c.page(access.Supervisors, c.handlePurgeSubject))
	c.mux.Handle("GET /samples/{id}/image", c.page(access.Readers, c.handleImage))
	c.mux.Handle("GET /search", c.page(access.Readers, c.handleSearch))
	c.mux.Handle("GET /hits", c.page(access.HitReaders, c.handleHits))
	c.mux.Handle("GET /hits/{id}", c.page(access.HitReaders, c.handleHit))
	c.mux.Handle("POST /hits/{id}", c.page(access.Examiners, c.handleDecide))
	c.mux.Handle("GET /hits/{id}/images/{sample}", c.page(access.HitReaders, c.handleHitImage))
	c.mux.Handle("GET /watchlists", c.page(access.WatchlistReaders, c.handleWatchlists))
	c.mux.Handle("POST /watchlists", c.page(access.WatchlistOwners, c.handleCreateWatchlist))
	c.mux.Handle("POST /watchlists/entries", c.upload(access.WatchlistOwners, c.handleAddWatchEntry))
	c.mux.Handle("POST /watchlists/entries/{id}/remove", c.page(access.WatchlistOwners, c.handleRemoveWatchEntry))
	c.mux.Handle("GET /partners", c.page(access.DeliveryReaders, c.handlePartners))
	c.mux.Handle("POST /partners", c.page(access.Admins, c.handleCreatePartner))
	c.mux.Handle("POST /partners/{code}", c.page(access.Admins, c.handleUpdatePartner))
	c.mux.Handle("POST /agreements", c.page(access.Admins, c.handleCreateAgreement))
	c.mux.Handle("POST /agreements/{id}/revoke", c.page(access.Admins, c.handleRevokeAgreement))
	c.mux.Handle("GET /deliveries/{id}", c.page(access.DeliveryReaders, c.handleDelivery))
	c.mux.Handle("GET /audit", c.page(access.Auditors, c.handleAudit))
	c.mux.Handle("GET /users", c.page(access.Admins, c.handleUsers))
	c.mux.Handle("POST /users", c.page(access.Admins, c.handleCreateUser))
	c.mux.Handle("POST /users/{id}/disable", c.page(access.Admins, c.handleUserDisable))
	c.mux.Handle("POST /users/{id}/enable", c.page(access.Admins, c.handleUserEnable))
	c.mux.Handle("POST /users/{id}/token", c.page(access.Admins, c.handleUserToken))
	c.mux.Handle("GET /sites", c.page(access.Admins, c.handleSites))
	c.mux.Handle("POST /sites", c.page(access.Admins, c.handleCreateSite))
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.sessionUser(r), huella.Errorf(huella.ENOTFOUND, "no such page"))
	})
}

// ServeHTTP serves a console page, with security headers on every answer.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if err := c.origin.Check(r); err != nil {
		c.renderError(w, r, nil, huella.Errorf(huella.EFORBIDDEN, "cross-origin request refused"))
		return
	}
	c.mux.ServeHTTP(w, r)
}

func cacheForever(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// request is what a page handler knows about the request it serves.
type request struct {
	user    *huella.User
	session *session
	lang    string
}

// page wraps a handler: it requires a signed-in user of one of the roles,
// checks the CSRF token of every POST, and puts the user and the role's
// purpose in the context, as the API does.
func (c *Console) page(roles []huella.Role, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return c.guard(roles, false, h)
}

// upload is page for a multipart form: the handler reads the parts itself
// (images stay in memory, never in temporary files) and must check the
// CSRF token with validCSRF once it has read the form.
func (c *Console) upload(roles []huella.Role, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return c.guard(roles, true, h)
}

func (c *Console) guard(roles []huella.Role, multipart bool, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, user := c.currentSession(r)
		if user == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, huella.Errorf(huella.EUNAUTHORIZED, "sign in first"))
			return
		}
		if r.Method == http.MethodPost && !multipart {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
				c.renderError(w, r, user, huella.Errorf(huella.EINVALID, "a form was expected"))
				return
			}
			if err := r.ParseForm(); err != nil || !c.validCSRF(r, sess.CSRF) {
				c.renderError(w, r, user, errCSRF)
				return
			}
		}
		if !slices.Contains(roles, user.Role) {
			c.renderError(w, r, user, huella.Errorf(huella.EFORBIDDEN, "your role may not open this page"))
			return
		}
		ctx := huella.NewContextWithActor(r.Context(), user)
		ctx = huella.NewContextWithPurpose(ctx, access.Purpose(user.Role))
		req := &request{user: user, session: sess, lang: c.language(r)}
		if multipart && r.Method == http.MethodPost {
			// Images: read whole under the memory budget, then decoded in
			// one of the bounded slots.
			c.cfg.Uploads.Wrap(w, r.WithContext(ctx), maxEnrollSize, func(w http.ResponseWriter, r *http.Request) { h(w, r, req) },
				func(err error) { c.renderError(w, r, user, err) })
			return
		}
		h(w, r.WithContext(ctx), req)
	})
}

// maxFormSize bounds a form without files.
const maxFormSize = 1 << 20

var errCSRF = huella.Errorf(huella.EFORBIDDEN, "the form has expired or did not come from this console; reload the page and try again")

// audit appends the event for a read of personal data; the read is refused
// if it cannot be audited.
func (c *Console) audit(ctx context.Context, action, object, site, detail string) error {
	e := huella.NewAuditEvent(ctx, action, object, site)
	e.Time = c.cfg.Now()
	e.Detail = detail
	return c.cfg.Store.AppendAudit(ctx, e)
}

// renderError shows err on an error page. Internal errors are logged in
// full and shown as "internal error"; domain messages carry no personal data.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, user *huella.User, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = huella.Errorf(huella.ETOOLARGE, "request too large")
	}
	code := huella.ErrorCode(err)
	if code == huella.EINTERNAL {
		c.cfg.Logger.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	v := c.newView(r, user, nil, "error")
	v.Data = errorPage{Code: code, Message: v.ErrorText(err)}
	c.render(w, access.Status(code), "error", v)
}

type errorPage struct{ Code, Message string }

// render executes the page's template into a buffer first, so that a
// template error becomes a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, v *view) {
	t, ok := pages[name]
	if !ok {
		c.cfg.Logger.Error("no console template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.cfg.Logger.Error("render console page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// localPath returns next if it is a path on this site, else "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
