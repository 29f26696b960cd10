package http_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProblemDetails(t *testing.T) {
	e := MustOpenEnv(t)
	resp, body := e.do("officer", "GET", "/v1/encounters/enc_nosuch", nil, "")
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Type, Title, Detail, Code, Message string
		Status                             int
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != 404 || p.Title != "Not Found" || p.Code != "not_found" || p.Detail == "" || p.Message != p.Detail || p.Type == "" {
		t.Errorf("problem = %+v", p)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := MustOpenEnv(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/encounters", "GET, POST, HEAD"},
		{"PUT", "/v1/encounters/enc_x", "GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		resp, body := e.do("officer", tc.method, tc.path, nil, "")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
		if !strings.Contains(string(body), `"code": "method_not_allowed"`) {
			t.Errorf("%s %s body %s", tc.method, tc.path, body)
		}
	}
	if resp, _ := e.do("officer", "GET", "/v1/no-such-path", nil, ""); resp.StatusCode != 404 {
		t.Errorf("unknown path = %d, want 404", resp.StatusCode)
	}
}

func TestOpenAPIConventions(t *testing.T) {
	e := MustOpenEnv(t)
	_, body := e.do("", "GET", "/openapi.json", nil, "")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/.well-known/jwks.json"]["get"]; !ok {
		t.Error("/.well-known/jwks.json is not described")
	}
	seen := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			id := op.OperationID
			if id == "" || strings.ContainsAny(id, "-_/{} ") {
				t.Errorf("%s %s: operationId %q", method, path, id)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("operationId %q of %s %s is also %s", id, method, path, other)
			}
			seen[id] = method + " " + path
		}
	}
}
