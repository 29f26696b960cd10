package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/huella-abis/huella"
)

// usersPage lists the users and their tokens, and creates users.
type usersPage struct {
	Users       []*huella.User
	Sites       []*huella.Site
	Roles       []huella.Role
	Form        url.Values
	Error       string
	Created     *huella.User // a new user, or one whose token was rotated
	Rotated     bool
	Token       string // Created's token, shown this once
	Saved       string // what the last action on a user did
	ActionError string // why it was refused
	ByLastUse   bool
}

func (c *Console) handleUsers(w http.ResponseWriter, r *http.Request, req *request) {
	c.renderUsers(w, r, req, http.StatusOK, usersPage{Form: url.Values{}})
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, req *request, status int, page usersPage) {
	ctx := r.Context()
	users, err := c.cfg.Store.ListUsers(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	_, sites, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if r.URL.Query().Get("sort") == "last-used" {
		huella.SortByTokenUse(users)
		page.ByLastUse = true
	}
	page.Users, page.Sites, page.Roles = users, sites, huella.Roles
	v := c.pageView(r, req, "users")
	v.Data = page
	c.render(w, status, "users", v)
}

// handleCreateUser creates a user and shows its token, this once.
func (c *Console) handleCreateUser(w http.ResponseWriter, r *http.Request, req *request) {
	token := newAPIToken()
	u := &huella.User{
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: huella.Role(r.PostFormValue("role")),
		Sites: r.PostForm["sites"], Partner: strings.TrimSpace(r.PostFormValue("partner")), TokenHash: huella.HashToken(token),
	}
	if !u.Role.SiteScoped() {
		u.Sites = nil
	}
	v := c.pageView(r, req, "users")
	if err := c.cfg.Store.CreateUser(r.Context(), u); err != nil {
		if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.ECONFLICT {
			c.renderError(w, r, req.user, err)
			return
		}
		c.renderUsers(w, r, req, http.StatusBadRequest, usersPage{Form: r.PostForm, Error: v.ErrorText(err)})
		return
	}
	c.renderUsers(w, r, req, http.StatusCreated, usersPage{Form: url.Values{}, Created: u, Token: token})
}

// newAPIToken returns a new API token in the API's format.
func newAPIToken() string { return "hu_" + randomToken() }

// handleUserDisable disables a user: their token and console sessions stop
// working at once.
func (c *Console) handleUserDisable(w http.ResponseWriter, r *http.Request, req *request) {
	c.setUserDisabled(w, r, req, true)
}

// handleUserEnable enables a disabled user again.
func (c *Console) handleUserEnable(w http.ResponseWriter, r *http.Request, req *request) {
	c.setUserDisabled(w, r, req, false)
}

func (c *Console) setUserDisabled(w http.ResponseWriter, r *http.Request, req *request, disabled bool) {
	id := r.PathValue("id")
	v := c.pageView(r, req, "users")
	if disabled && id == req.user.ID {
		c.renderUsers(w, r, req, http.StatusBadRequest, usersPage{Form: url.Values{}, ActionError: v.T("users.err.self")})
		return
	}
	u, err := c.cfg.Store.SetUserDisabled(r.Context(), id, disabled)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	msg := "users.enabled_now"
	if disabled {
		msg = "users.disabled_now"
	}
	c.renderUsers(w, r, req, http.StatusOK, usersPage{Form: url.Values{}, Saved: v.T(msg, u.Name)})
}

// handleUserToken rotates a user's token and shows the new one, this once;
// the old token and the sessions signed in with it stop working at once.
func (c *Console) handleUserToken(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	u, err := c.cfg.Store.FindUser(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	token := newAPIToken()
	if u, err = c.cfg.Store.RotateToken(ctx, u.ID, huella.HashToken(token), c.cfg.Now().Add(huella.DefaultTokenLifetime)); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	c.renderUsers(w, r, req, http.StatusOK, usersPage{Form: url.Values{}, Created: u, Rotated: true, Token: token})
}
