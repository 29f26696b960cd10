package console

import (
	"net/http"
	"strings"

	"github.com/huella-abis/huella"
)

// handlePurgeSubject purges a subject on a supervisor's order, with a
// reason category, as POST /v1/subjects/{id}/purge does; the supervisor
// lands on the encounter list, where the person no longer appears.
func (c *Console) handlePurgeSubject(w http.ResponseWriter, r *http.Request, req *request) {
	reason := huella.PurgeReason(strings.TrimSpace(r.PostFormValue("reason")))
	if _, err := c.cfg.Enroll.PurgeSubject(r.Context(), r.PathValue("id"), reason); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	http.Redirect(w, r, "/encounters", http.StatusSeeOther)
}
