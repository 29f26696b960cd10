package console

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/huella-abis/huella"
)

type auditPage struct {
	Events       []*huella.AuditEvent
	After        int64
	Next, Prev   string
	ChainChecked int  // events whose hash and link were checked
	ChainOK      bool // every checked event's hash and link hold
	BrokenAt     int64
}

// handleAudit shows the audit trail, a page at a time, and checks the hash
// chain of the events shown. Reading it is itself audited.
func (c *Console) handleAudit(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.renderError(w, r, req.user, huella.Errorf(huella.EINVALID, "after must be a sequence number"))
			return
		}
		after = n
	}
	from := after
	if from > 0 {
		from-- // read the event before the page, to check the first link
	}
	events, err := c.cfg.Store.ListAuditEvents(ctx, from, auditPerPage+2)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if err := c.audit(ctx, huella.ActionAuditRead, "audit", "", fmt.Sprintf("after %d", after)); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page := auditPage{After: after, ChainOK: true}
	var prev *huella.AuditEvent
	for _, e := range events {
		if e.Seq <= after {
			prev = e
			continue
		}
		if len(page.Events) == auditPerPage {
			page.Next = fmt.Sprintf("/audit?after=%d", page.Events[len(page.Events)-1].Seq)
			break
		}
		ok := bytes.Equal(e.Hash, e.ComputeHash())
		if prev != nil {
			ok = ok && bytes.Equal(e.PrevHash, prev.Hash) && e.Seq == prev.Seq+1
		} else if e.Seq == 1 {
			ok = ok && bytes.Equal(e.PrevHash, make([]byte, len(e.PrevHash))) && len(e.PrevHash) > 0
		}
		if !ok && page.ChainOK {
			page.ChainOK, page.BrokenAt = false, e.Seq
		}
		page.ChainChecked++
		page.Events = append(page.Events, e)
		prev = e
	}
	if after > 0 {
		page.Prev = fmt.Sprintf("/audit?after=%d", max(after-auditPerPage, 0))
	}
	v := c.pageView(r, req, "audit")
	v.Data = page
	c.render(w, http.StatusOK, "audit", v)
}

// ShortHash shows the first bytes of a hash in hex.
func (v *view) ShortHash(h []byte) string {
	if len(h) > 6 {
		h = h[:6]
	}
	return fmt.Sprintf("%x", h)
}
