package http_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
)

// endpoint is one route of the access matrix. allowed says, per role,
// whether the role may call it for an object at its own site (MX-TAP for
// the site-scoped users) and at another site (MX-CDMX).
type endpoint struct {
	route   string // "METHOD /path" as in the OpenAPI document
	request func(e *env, site string) (path string, body io.Reader, contentType string)
	allowed map[huella.Role][2]bool // [own site, other site]
}

var (
	both    = [2]bool{true, true}
	ownOnly = [2]bool{true, false}
	none    = [2]bool{false, false}
)

func get(path func(e *env, site string) string) func(e *env, site string) (string, io.Reader, string) {
	return func(e *env, site string) (string, io.Reader, string) { return path(e, site), nil, "" }
}

// accessMatrix is the whole access policy, written out: every endpoint ×
// role × site. TestOpenAPI checks it covers every endpoint.
var accessMatrix = []endpoint{
	{"POST /v1/encounters", func(e *env, site string) (string, io.Reader, string) {
		body, ct := multipartBody(e.t, encounterJSON(site), fingerImage(e.t, "finger-102_1.png"))
		return "/v1/encounters", body, ct
	}, map[huella.Role][2]bool{huella.RoleOfficer: ownOnly}},
	{"GET /v1/encounters", get(func(e *env, site string) string { return "/v1/encounters?site=" + site }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/encounters/{id}", get(func(e *env, site string) string { return "/v1/encounters/" + e.enrolls[site].ID }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/subjects/{id}", get(func(e *env, site string) string { return "/v1/subjects/" + e.enrolls[site].SubjectID }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/samples/{id}/image", get(func(e *env, site string) string { return "/v1/samples/" + e.enrolls[site].Samples[0].ID + "/image" }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/stats/encounters", get(func(e *env, site string) string { return "/v1/stats/encounters?site=" + site }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RoleAdmin: both}},
	{"GET /v1/sites", get(func(e *env, site string) string { return "/v1/sites" }),
		map[huella.Role][2]bool{huella.RoleOfficer: both, huella.RoleExaminer: both, huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RolePartner: both, huella.RoleAdmin: both}},
	{"POST /v1/sites", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/sites", strings.NewReader(fmt.Sprintf(`{"code":"MX-N%03d","name":"Nueva","country":"MEX","time_zone":"America/Tijuana"}`, e.next())), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"GET /v1/users", get(func(e *env, site string) string { return "/v1/users" }), map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/users", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/users", strings.NewReader(fmt.Sprintf(`{"name":"new.user%d","role":"officer","sites":[%q]}`, e.next(), site)), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"GET /v1/me", get(func(e *env, site string) string { return "/v1/me" }),
		map[huella.Role][2]bool{huella.RoleOfficer: both, huella.RoleExaminer: both, huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RolePartner: both, huella.RoleAdmin: both}},
	{"GET /v1/audit", get(func(e *env, site string) string { return "/v1/audit" }), map[huella.Role][2]bool{huella.RoleAuditor: both}},
}

func TestAccessControl(t *testing.T) {
	e := MustOpenEnv(t)
	for _, ep := range accessMatrix {
		method := strings.Fields(ep.route)[0]
		for _, role := range huella.Roles {
			for i, site := range []string{"MX-TAP", "MX-CDMX"} {
				want := ep.allowed[role][i]
				name := ep.route + "/" + string(role) + "/" + site
				t.Run(name, func(t *testing.T) {
					path, body, ct := ep.request(e, site)
					resp, got := e.do(string(role), method, path, body, ct)
					switch {
					case want && resp.StatusCode >= 300:
						t.Errorf("status %d, want success: %s", resp.StatusCode, got)
					case !want && resp.StatusCode != http.StatusForbidden:
						t.Errorf("status %d, want 403: %s", resp.StatusCode, got)
					}
				})
			}
		}
		t.Run(ep.route+"/NoToken", func(t *testing.T) {
			path, body, ct := ep.request(e, "MX-TAP")
			resp, _ := e.do("", method, path, body, ct)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
		})
		t.Run(ep.route+"/BadToken", func(t *testing.T) {
			path, body, ct := ep.request(e, "MX-TAP")
			req, _ := http.NewRequest(method, e.srv.URL+path, body)
			req.Header.Set("Authorization", "Bearer hu_not-a-real-token")
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
		})
	}
}

// TestSubjectAcrossSites: an officer sees that a person was seen at another
// site, but not the personal data recorded there.
func TestSubjectAcrossSites(t *testing.T) {
	e := MustOpenEnv(t)
	other := e.enrolls["MX-CDMX"]
	enc := strings.Replace(encounterJSON("MX-TAP"), `"site"`, `"subject_id": "`+other.SubjectID+`", "site"`, 1)
	resp, body := e.enroll("officer", enc, fingerImage(t, "finger-101_2.png"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("link enrollment: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("officer", "GET", "/v1/subjects/"+other.SubjectID, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(`"MX-CDMX"`)) {
		t.Errorf("the encounter at MX-CDMX is not listed")
	}
	if n := bytes.Count(body, []byte("Xochitl")); n != 1 {
		t.Errorf("names appear %d times, want only in the MX-TAP encounter", n)
	}
	if bytes.Count(body, []byte(`"image_ref"`)) != 1 {
		t.Errorf("samples of the other site's encounter are shown")
	}
}
