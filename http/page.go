package http

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/huella-abis/huella"
)

// Every list endpoint pages alike: it takes limit (1-1000, default 100) and
// an opaque cursor, and when more items follow it answers with a Link
// header (RFC 8288) whose rel="next" target is the same request with the
// cursor of the next page. The body stays the JSON array of the page.
// Lists ordered by a time and an ID (encounters, hits, deliveries, watch
// entries) page in the store from the last item's key, so a page is right
// while items are added or leave the list; the short administrative lists
// (sites, users, partners, agreements, watchlists, attempts) are read whole
// and paged from the last item's ID (their items are never deleted), or,
// for users sorted by last use, from the last user's key.

const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageQuery documents the paging parameters of every list.
var pageQuery = []param{
	{"limit", "integer", "at most this many (default 100, max 1000)"},
	{"cursor", "string", "where the page starts: take it from the Link rel=\"next\" of the previous page"},
}

// pageCursor is what a cursor holds: the last item's sort key (At and
// ID), or its ID alone, or an audit sequence number.
type pageCursor struct {
	At  time.Time `json:"t,omitzero"`
	ID  string    `json:"i,omitempty"`
	Seq int64     `json:"s,omitempty"`
}

// page is a list request's paging: its limit and where it starts.
type page struct {
	Limit  int
	Offset int         // the deprecated offset parameter, where a list kept it
	Cursor *pageCursor // nil: from the start
}

// readPage reads limit and cursor, and offset when withOffset (the lists
// that had it before cursors keep it).
func readPage(r *http.Request, withOffset bool) (page, error) {
	p := page{Limit: defaultPageLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, huella.Errorf(huella.EINVALID, "limit must be 1-%d", maxPageLimit)
		}
		p.Limit = n
	}
	if v := q.Get("offset"); v != "" && withOffset {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, huella.Errorf(huella.EINVALID, "offset must be 0 or more")
		}
		p.Offset = n
	}
	if v := q.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			return p, err
		}
		p.Cursor = c
	}
	return p, nil
}

func encodeCursor(c pageCursor) string {
	b, _ := json.Marshal(c) // a struct of a time, a string and an int always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(v string) (*pageCursor, error) {
	bad := huella.Errorf(huella.EINVALID, "cursor is not one this server gave: take it from a Link rel=\"next\"")
	if len(v) > 256 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	var c pageCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Seq < 0 {
		return nil, bad
	}
	return &c, nil
}

// fetch is how many items to ask the store for: one more than the page,
// to learn whether another follows (stores give at most maxPageLimit).
func (p page) fetch() int { return min(p.Limit+1, maxPageLimit) }

// key returns the cursor as a store's page key, or nil; a cursor without
// a time is refused.
func (p page) key() (*huella.PageKey, error) {
	if p.Cursor == nil {
		return nil, nil
	}
	if p.Cursor.At.IsZero() || p.Cursor.ID == "" {
		return nil, huella.Errorf(huella.EINVALID, "cursor is not one of this list: take it from a Link rel=\"next\"")
	}
	return &huella.PageKey{At: p.Cursor.At, ID: p.Cursor.ID}, nil
}

// trim cuts a list fetched with fetch() to the page and reports whether
// more follow.
func trim[T any](p page, list []T) ([]T, bool) {
	if len(list) > p.Limit {
		return list[:p.Limit], true
	}
	return list, len(list) == maxPageLimit
}

// pageByID pages a whole list read in memory: the page starts after the
// item whose ID the cursor holds. ECONFLICT when that item is no longer in
// the list (start again).
func pageByID[T any](p page, list []T, id func(T) string) ([]T, *pageCursor, error) {
	start := 0
	if p.Cursor != nil && p.Cursor.ID == "" {
		return nil, nil, huella.Errorf(huella.EINVALID, "cursor is not one of this list: take it from a Link rel=\"next\"")
	}
	if p.Cursor != nil {
		start = -1
		for i, item := range list {
			if id(item) == p.Cursor.ID {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, nil, huella.Errorf(huella.ECONFLICT, "the cursor's item is no longer in this list: list it from the start")
		}
	}
	list = list[start:]
	if len(list) <= p.Limit {
		return list, nil, nil
	}
	list = list[:p.Limit]
	return list, &pageCursor{ID: id(list[len(list)-1])}, nil
}

// setNext adds the Link to the next page, starting after c: the request's
// own path and query with the cursor replaced (and any offset dropped).
func setNext(w http.ResponseWriter, r *http.Request, c *pageCursor) {
	if c == nil {
		return
	}
	q := r.URL.Query()
	q.Del("offset")
	q.Del("after")
	q.Set("cursor", encodeCursor(*c))
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Add("Link", "<"+u.String()+">; rel=\"next\"")
}

// writePageByID answers with the page of a list read in memory (pageByID)
// and its Link to the next; an empty list is [], never null.
func writePageByID[T any](w http.ResponseWriter, r *http.Request, p page, list []T, id func(T) string, fail func(http.ResponseWriter, *http.Request, error)) {
	list, next, err := pageByID(p, list, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	if list == nil {
		list = []T{}
	}
	setNext(w, r, next)
	writeJSON(w, http.StatusOK, list)
}

// pageByTokenUse pages users sorted by huella.SortByTokenUse from the last
// user's key (its token's last use, then its name), not its position: a
// user whose token is used meanwhile moves up, and the page does not start
// over with it. The cursor holds the time and the ID, never the name.
func pageByTokenUse(p page, users []*huella.User) ([]*huella.User, *pageCursor, error) {
	start := 0
	if p.Cursor != nil {
		if p.Cursor.ID == "" {
			return nil, nil, huella.Errorf(huella.EINVALID, "cursor is not one of this list: take it from a Link rel=\"next\"")
		}
		i := slices.IndexFunc(users, func(u *huella.User) bool { return u.ID == p.Cursor.ID })
		if i < 0 {
			return nil, nil, huella.Errorf(huella.ECONFLICT, "the cursor's item is no longer in this list: list it from the start")
		}
		key := &huella.User{TokenUsedAt: p.Cursor.At, Name: users[i].Name}
		start = slices.IndexFunc(users, func(u *huella.User) bool { return huella.CompareTokenUse(u, key) > 0 })
		if start < 0 {
			start = len(users)
		}
	}
	users = users[start:]
	if len(users) <= p.Limit {
		return users, nil, nil
	}
	users = users[:p.Limit]
	last := users[len(users)-1]
	return users, &pageCursor{At: last.TokenUsedAt, ID: last.ID}, nil
}
