// Package oidctest runs a real OpenID Connect provider in the test process:
// the OP of github.com/zitadel/oidc (discovery, authorization endpoint with
// PKCE, token endpoint, signed ID tokens, key set, end-session endpoint) over
// an in-memory store of users and one confidential client, with a password
// form as its login page. Tests sign in through it as a browser would.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account at the provider.
type User struct {
	Subject  string // the sub claim
	Username string // preferred_username, and the name typed at the login form
	Password string
	Groups   []string       // the groups claim, with the "groups" scope
	Claims   map[string]any // further claims of the ID token
}

// Provider is a running OpenID provider with one client.
type Provider struct {
	Issuer       string // the provider's URL
	ClientID     string
	ClientSecret string

	srv      *httptest.Server
	op       *op.Provider
	key      *rsa.PrivateKey
	keyID    string
	mu       sync.Mutex
	users    map[string]*User // by subject
	requests map[string]*authRequest
	codes    map[string]string // code → request ID
	tokens   map[string]string // access token ID → subject
	client   *client
	// Authorizations are the authorization requests received, in order.
	authorizations []oidc.AuthRequest
	terminated     []string // subjects whose sessions ended at the provider
}

// Start runs a provider until the test ends, with the users and a
// confidential client (HTTP Basic authentication) that may redirect to the
// URIs given later with AllowRedirect.
func Start(tb testing.TB, users ...User) *Provider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Provider{
		ClientID: "huella-console", ClientSecret: randomID(),
		key: key, keyID: randomID()[:8],
		users: map[string]*User{}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{},
	}
	p.client = &client{id: p.ClientID}
	for i := range users {
		u := users[i]
		p.users[u.Subject] = &u
	}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	tb.Cleanup(p.srv.Close)
	// Named localhost, not 127.0.0.1 like the servers under test: another
	// site to a browser, as a real provider is.
	p.Issuer = strings.Replace(p.srv.URL, "127.0.0.1", "localhost", 1)
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: "/signed-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
	}, &storage{p}, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		tb.Fatal(err)
	}
	interceptor := op.NewIssuerInterceptor(p.op.IssuerFromRequest)
	mux.HandleFunc("GET /login", p.handleLoginForm)
	mux.HandleFunc("POST /login", interceptor.HandlerFunc(p.handleLogin))
	mux.HandleFunc("GET /signed-out", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("signed out")) })
	mux.Handle("/", p.op)
	return p
}

// AllowRedirect registers a redirect URI and a post-logout redirect URI of
// the client.
func (p *Provider) AllowRedirect(redirectURI, postLogoutURI string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.client.redirects = append(p.client.redirects, redirectURI)
	p.client.postLogout = append(p.client.postLogout, postLogoutURI)
}

// SetGroups changes the groups of the account with the subject, as an
// administrator of the provider would.
func (p *Provider) SetGroups(subject string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[subject].Groups = groups
}

// Authorizations returns the authorization requests the provider received.
func (p *Provider) Authorizations() []oidc.AuthRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.authorizations)
}

// Terminated returns the subjects whose sessions ended at the provider's
// end-session endpoint.
func (p *Provider) Terminated() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.terminated)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><title>Test IdP</title>
<form method="post" action="/login"><input type="hidden" name="id" value="{{.ID}}">
<input name="username"><input name="password" type="password"><button>Sign in</button></form>{{.Error}}`))

func (p *Provider) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	loginPage.Execute(w, struct{ ID, Error string }{r.URL.Query().Get("authRequestID"), ""})
}

// handleLogin checks the password and returns the browser to the
// authorization endpoint, which redirects it to the client with a code.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	id, name, password := r.PostFormValue("id"), r.PostFormValue("username"), r.PostFormValue("password")
	p.mu.Lock()
	req := p.requests[id]
	var user *User
	for _, u := range p.users {
		if u.Username == name && u.Password == password {
			user = u
		}
	}
	if req != nil && user != nil {
		req.subject, req.authTime, req.done = user.Subject, time.Now(), true
	}
	p.mu.Unlock()
	if req == nil || user == nil {
		w.WriteHeader(http.StatusUnauthorized)
		loginPage.Execute(w, struct{ ID, Error string }{id, "wrong user name or password"})
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(r.Context(), id), http.StatusFound)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// authRequest is an authorization request in progress.
type authRequest struct {
	id        string
	req       oidc.AuthRequest
	subject   string
	authTime  time.Time
	done      bool
	challenge *oidc.CodeChallenge
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.req.ClientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.req.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string                { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                   { return a.req.Scopes }
func (a *authRequest) GetState() string                      { return a.req.State }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// client is the one registered client: a web application that
// authenticates with its secret.
type client struct {
	id                    string
	redirects, postLogout []string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return c.postLogout }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return "/login?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return scope == "groups" }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// storage is the provider's op.Storage, in memory.
type storage struct{ p *Provider }

var errNotFound = errors.New("not found")

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	a := &authRequest{id: randomID(), req: *req}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.p.requests[a.id] = a
	s.p.authorizations = append(s.p.authorizations, *req)
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if a, ok := s.p.requests[id]; ok {
		return a, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	id, ok := s.p.codes[code]
	s.p.mu.Unlock()
	if !ok {
		return nil, errNotFound
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	delete(s.p.requests, id)
	for code, rid := range s.p.codes {
		if rid == id {
			delete(s.p.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	id := randomID()
	s.p.tokens[id] = req.GetSubject()
	return id, time.Now().Add(5 * time.Minute), nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens are not issued")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(_ context.Context, userID, _ string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.terminated = append(s.p.terminated, userID)
	for id, sub := range s.p.tokens {
		if sub == userID {
			delete(s.p.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	delete(s.p.tokens, token)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.p.keyID, s.p.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{s.p.keyID, s.p.key}}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if id != s.p.client.id {
		return nil, errNotFound
	}
	c := *s.p.client
	return &c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.p.ClientID || secret != s.p.ClientSecret {
		return errors.New("wrong client credentials")
	}
	return nil
}

// SetUserinfoFromScopes fills the claims of the ID token.
func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, subject, _ string, scopes []string) error {
	return s.userinfo(info, subject, scopes)
}

func (s *storage) userinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	u := s.p.users[subject]
	if u == nil {
		return errNotFound
	}
	info.Subject = u.Subject
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
		case "groups":
			info.AppendClaims("groups", u.Groups)
		}
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.p.mu.Lock()
	_, ok := s.p.tokens[tokenID]
	s.p.mu.Unlock()
	if !ok {
		return errNotFound
	}
	return s.userinfo(info, subject, []string{oidc.ScopeProfile, "groups"})
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *storage) Health(context.Context) error { return nil }
