package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// follow lists path as user page by page, following Link rel="next" until a
// page has none, and returns the IDs (the field key) of every page.
func (e *env) follow(user, path, key string) [][]string {
	e.t.Helper()
	var pages [][]string
	for path != "" {
		resp, body := e.do(user, "GET", path, nil, "")
		from := path
		if resp.StatusCode != http.StatusOK {
			e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		var items []map[string]any
		if err := json.Unmarshal(body, &items); err != nil {
			e.t.Fatalf("GET %s: %v", path, err)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it[key].(string))
		}
		pages = append(pages, ids)
		path = ""
		if link := resp.Header.Get("Link"); link != "" {
			m := nextLink.FindStringSubmatch(link)
			if m == nil || !strings.HasPrefix(m[1], "/v1/") {
				e.t.Fatalf("GET %s: Link %q, want <path>; rel=\"next\"", from, link)
			}
			path = m[1]
		}
		if len(pages) > 50 {
			e.t.Fatalf("GET %s: more than 50 pages", from)
		}
	}
	return pages
}

// TestPagination pages through every kind of list with a small limit: the
// pages hold limit items each, follow on without repeating or missing an
// item, and the last page has no Link.
func TestPagination(t *testing.T) {
	e := MustOpenEnv(t)
	for i := range 3 {
		e.addUser("officer-"+string(rune('a'+i)), huella.RoleOfficer, "MX-TAP")
	}
	check := func(t *testing.T, user, path, key string, limit int) {
		t.Helper()
		whole := e.follow(user, path, key)[0]
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		pages := e.follow(user, path+sep+"limit="+strconv.Itoa(limit), key)
		var all []string
		for i, p := range pages {
			if len(p) != limit && i < len(pages)-1 || len(p) > limit {
				t.Errorf("page %d of %s holds %d items, want %d", i, path, len(p), limit)
			}
			all = append(all, p...)
		}
		if len(pages) < 2 {
			t.Errorf("%s with limit %d: %d page(s) for %d items, want a Link to a second", path, limit, len(pages), len(whole))
		}
		if !slices.Equal(all, whole) {
			t.Errorf("%s page by page = %v, want %v", path, all, whole)
		}
	}
	t.Run("Sites", func(t *testing.T) { check(t, "admin", "/v1/sites", "code", 1) })
	t.Run("Users", func(t *testing.T) { check(t, "admin", "/v1/users", "id", 3) })
	t.Run("UsersLastUsed", func(t *testing.T) { check(t, "admin", "/v1/users?sort=last-used", "id", 4) })
	// The last user of a page works meanwhile and moves to the top of the
	// last-used order: the next page goes on after where it was.
	t.Run("UsersLastUsedWhileWorking", func(t *testing.T) {
		whole := e.follow("admin", "/v1/users?sort=last-used", "id")[0]
		resp, body := e.do("admin", "GET", "/v1/users?sort=last-used&limit=3", nil, "")
		var first []huella.User
		json.Unmarshal(body, &first)
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if len(first) != 3 || m == nil || len(whole) < 6 {
			t.Fatalf("first page: %d users of %d, Link %q", len(first), len(whole), resp.Header.Get("Link"))
		}
		if err := e.store.RecordTokenUse(context.Background(), first[2].ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range e.follow("admin", m[1], "id") {
			got = append(got, p...)
		}
		if !slices.Equal(got, whole[3:]) {
			t.Errorf("pages after the first = %v, want %v", got, whole[3:])
		}
	})
	t.Run("Watchlists", func(t *testing.T) { check(t, "admin", "/v1/watchlists", "id", 1) })
	t.Run("WatchEntries", func(t *testing.T) {
		for range 5 {
			e.newWatchEntry(e.lists[1].ID)
		}
		check(t, "supervisor", "/v1/watchlists/"+e.lists[1].ID+"/entries", "id", 2)
	})
	t.Run("Encounters", func(t *testing.T) { check(t, "supervisor", "/v1/encounters", "id", 1) })
	t.Run("Audit", func(t *testing.T) {
		pages := e.follow("auditor", "/v1/audit?limit=5", "hash")
		if len(pages) < 2 || len(pages[0]) != 5 {
			t.Errorf("audit pages %d, first of %d events; want several of 5", len(pages), len(pages[0]))
		}
	})

	// The hit queue pages by the last hit's key: deciding a hit of the
	// first page does not make the second skip one.
	t.Run("HitsWhileDeciding", func(t *testing.T) {
		for range 5 {
			e.newHit("MX-TAP")
		}
		whole := e.follow("supervisor", "/v1/hits?state=pending", "id")[0]
		resp, body := e.do("supervisor", "GET", "/v1/hits?state=pending&limit=2", nil, "")
		var first []huella.Hit
		json.Unmarshal(body, &first)
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if resp.StatusCode != 200 || len(first) != 2 || m == nil || len(whole) < 5 {
			t.Fatalf("first page: %d, %d hits of %d, Link %q", resp.StatusCode, len(first), len(whole), resp.Header.Get("Link"))
		}
		if _, err := e.store.DecideHit(adminContext(), first[0].ID, huella.HitRejected, "different ridges"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range e.follow("supervisor", m[1], "id") {
			got = append(got, p...)
		}
		if !slices.Equal(got, whole[2:]) {
			t.Errorf("pages after the first = %v, want %v", got, whole[2:])
		}
	})

	t.Run("ErrBadCursor", func(t *testing.T) {
		for _, path := range []string{"/v1/sites?cursor=not-a-cursor", "/v1/encounters?cursor=e30", "/v1/sites?cursor=eyJpIjoibm9uZSJ9"} {
			resp, body := e.do("supervisor", "GET", path, nil, "")
			if resp.StatusCode != 400 && resp.StatusCode != 409 {
				t.Errorf("GET %s: %d %s, want 400 or 409", path, resp.StatusCode, body)
			}
		}
		if resp, _ := e.do("admin", "GET", "/v1/sites?limit=1001", nil, ""); resp.StatusCode != 400 {
			t.Errorf("limit 1001: %d, want 400", resp.StatusCode)
		}
	})
}

// TestEveryListPages holds every list of the API to the one convention: a
// GET answering a JSON array documents limit, cursor and the Link header.
func TestEveryListPages(t *testing.T) {
	e := MustOpenEnv(t)
	_, body := e.do("", "GET", "/openapi.json", nil, "")
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
			Responses  map[string]struct {
				Headers map[string]any `json:"headers"`
				Content map[string]struct {
					Schema struct {
						Type string `json:"type"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	lists := 0
	for path, ops := range doc.Paths {
		op, ok := ops["get"]
		if !ok || op.Responses["200"].Content["application/json"].Schema.Type != "array" {
			continue
		}
		lists++
		var params []string
		for _, p := range op.Parameters {
			if p.In == "query" {
				params = append(params, p.Name)
			}
		}
		if !slices.Contains(params, "limit") || !slices.Contains(params, "cursor") {
			t.Errorf("GET %s lists but takes %v, want limit and cursor", path, params)
		}
		if op.Responses["200"].Headers["Link"] == nil {
			t.Errorf("GET %s lists but documents no Link header", path)
		}
	}
	if lists < 12 {
		t.Errorf("%d lists documented, want the 12 or more the API has", lists)
	}
}
