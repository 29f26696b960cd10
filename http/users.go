package http

import (
	"net/http"
	"time"

	"github.com/huella-abis/huella"
)

// tokenRequest rotates a user's token.
type tokenRequest struct {
	// ExpiresInDays is the new token's lifetime, as when creating a user.
	ExpiresInDays int `json:"expires_in_days,omitempty"`
}

func (s *Server) handleDisableUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == huella.ActorFromContext(r.Context()).ID {
		s.Error(w, r, huella.Errorf(huella.EINVALID, "an administrator cannot disable their own account"))
		return
	}
	s.setUserDisabled(w, r, id, true)
}

func (s *Server) handleEnableUser(w http.ResponseWriter, r *http.Request) {
	s.setUserDisabled(w, r, r.PathValue("id"), false)
}

func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request, id string, disabled bool) {
	u, err := s.Store.SetUserDisabled(r.Context(), id, disabled)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// handleRotateToken gives a user a new token, shown only in this response;
// the old token stops working at once, and so do the console sessions
// signed in with it.
func (s *Server) handleRotateToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	ctx := r.Context()
	u, err := s.Store.FindUser(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	lifetime, err := huella.TokenLifetime(u.Role, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	token := NewToken()
	if u, err = s.Store.RotateToken(ctx, u.ID, huella.HashToken(token), s.Now().Add(lifetime)); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userResponse{User: u, Token: token})
}
