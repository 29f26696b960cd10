package http_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/imgproc"
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
	{"POST /v1/users/{id}/disable", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/users/" + e.throwawayUser(site) + "/disable", nil, ""
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/users/{id}/enable", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/users/" + e.throwawayUser(site) + "/enable", nil, ""
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/users/{id}/token", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/users/" + e.throwawayUser(site) + "/token", strings.NewReader(`{"expires_in_days":30}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"GET /v1/me", get(func(e *env, site string) string { return "/v1/me" }),
		map[huella.Role][2]bool{huella.RoleOfficer: both, huella.RoleExaminer: both, huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RolePartner: both, huella.RoleAdmin: both}},
	{"GET /v1/audit", get(func(e *env, site string) string { return "/v1/audit" }), map[huella.Role][2]bool{huella.RoleAuditor: both}},
	{"POST /v1/identify", func(e *env, site string) (string, io.Reader, string) {
		body, ct := multipartPart(e.t, "probe", `{"samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`, fingerImage(e.t, "finger-101_2.png"))
		return "/v1/identify", body, ct
	}, map[huella.Role][2]bool{huella.RoleOfficer: both, huella.RoleExaminer: both, huella.RoleSupervisor: both}},
	{"POST /v1/verify", func(e *env, site string) (string, io.Reader, string) {
		probe := fmt.Sprintf(`{"subject_id":%q,"samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`, e.enrolls[site].SubjectID)
		body, ct := multipartPart(e.t, "probe", probe, fingerImage(e.t, "finger-101_2.png"))
		return "/v1/verify", body, ct
	}, map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}}, // only subjects the caller may read
	{"POST /v1/import", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/import?site=" + site, bytes.NewReader(nistFile(e.t)), "application/octet-stream"
	}, map[huella.Role][2]bool{huella.RoleOfficer: ownOnly}},
	{"GET /v1/encounters/{id}/export", get(func(e *env, site string) string { return "/v1/encounters/" + e.enrolls[site].ID + "/export" }),
		map[huella.Role][2]bool{huella.RoleOfficer: ownOnly, huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/subjects/{id}/report", get(func(e *env, site string) string { return "/v1/subjects/" + e.enrolls[site].SubjectID + "/report" }),
		map[huella.Role][2]bool{huella.RoleSupervisor: both}},
	{"GET /v1/hits", get(func(e *env, site string) string { return "/v1/hits?site=" + site }),
		map[huella.Role][2]bool{huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/hits/{id}", get(func(e *env, site string) string { return "/v1/hits/" + e.newHit(site).ID }),
		map[huella.Role][2]bool{huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"GET /v1/hits/{id}/images/{sample}", get(func(e *env, site string) string {
		return "/v1/hits/" + e.newHit(site).ID + "/images/" + e.enrolls[site].Samples[0].ID
	}), map[huella.Role][2]bool{huella.RoleExaminer: ownOnly, huella.RoleSupervisor: both}},
	{"POST /v1/hits/{id}/decision", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/hits/" + e.newHit(site).ID + "/decision", strings.NewReader(`{"state":"rejected","reason":"different ridge flow"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleExaminer: ownOnly}},
	{"POST /v1/subjects/{id}/unmerge", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/subjects/" + e.mergedSubject(site) + "/unmerge", nil, ""
	}, map[huella.Role][2]bool{huella.RoleSupervisor: both}},
	{"POST /v1/subjects/{id}/purge", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/subjects/" + e.newSubject(site) + "/purge", strings.NewReader(`{"reason":"court-order"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleSupervisor: both}},
	{"GET /v1/watchlists", get(func(e *env, site string) string { return "/v1/watchlists" }),
		map[huella.Role][2]bool{huella.RoleExaminer: both, huella.RoleSupervisor: both, huella.RolePartner: both, huella.RoleAdmin: both}},
	{"POST /v1/watchlists", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/watchlists", strings.NewReader(`{"name":"Se busca","category":"wanted"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RolePartner: both, huella.RoleAdmin: both}},
	// For watchlist entries the two columns are lists rather than sites: the
	// partner's own list (column 0) and the program's list (column 1).
	{"GET /v1/watchlists/{id}/entries", get(func(e *env, site string) string {
		list := e.lists[0]
		if site != "MX-TAP" {
			list = e.lists[1]
		}
		return "/v1/watchlists/" + list.ID + "/entries"
	}), map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RolePartner: ownOnly, huella.RoleAdmin: both}},
	{"POST /v1/watchlists/{id}/entries", func(e *env, site string) (string, io.Reader, string) {
		list := e.lists[0]
		if site != "MX-TAP" {
			list = e.lists[1]
		}
		entry := `{"reference":"CASE-1","biographics":{"names":[{"family":"Doe"}],"sex":"U"},"samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`
		body, ct := multipartPart(e.t, "entry", entry, fingerImage(e.t, "finger-104_1.png"))
		return "/v1/watchlists/" + list.ID + "/entries", body, ct
	}, map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RolePartner: ownOnly, huella.RoleAdmin: both}},
	{"POST /v1/watch-entries/{id}/remove", func(e *env, site string) (string, io.Reader, string) {
		list := e.lists[0]
		if site != "MX-TAP" {
			list = e.lists[1]
		}
		return "/v1/watch-entries/" + e.newWatchEntry(list.ID) + "/remove", strings.NewReader(`{"reason":"notice withdrawn"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RolePartner: ownOnly, huella.RoleAdmin: both}},
	// Forwarding: partners and agreements are the admins'; deliveries are
	// read by admins, supervisors and auditors; each partner reads its receipts.
	{"GET /v1/partners", get(func(e *env, site string) string { return "/v1/partners" }), map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/partners", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/partners", strings.NewReader(fmt.Sprintf(`{"code":"GT-P%03d","name":"Partner","endpoint":"https://p.example.gt/in","format":"json"}`, e.next())), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"PUT /v1/partners/{code}", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/partners/" + e.forwardPartner(), strings.NewReader(`{"name":"Partner","endpoint":"http://127.0.0.1:9/deliveries","format":"json"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"GET /v1/partners/{code}/agreements", get(func(e *env, site string) string { return "/v1/partners/" + e.forwardPartner() + "/agreements" }),
		map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/partners/{code}/agreements", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/partners/" + e.forwardPartner() + "/agreements", strings.NewReader(`{"triggers":["hit"],"categories":["wanted"],"modalities":["finger"],"fields":["names"],"legal_basis":"MoU art. 4"}`), "application/json"
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"POST /v1/agreements/{id}/revoke", func(e *env, site string) (string, io.Reader, string) {
		return "/v1/agreements/" + e.newAgreement() + "/revoke", nil, ""
	}, map[huella.Role][2]bool{huella.RoleAdmin: both}},
	{"GET /v1/deliveries", get(func(e *env, site string) string { return "/v1/deliveries" }),
		map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RoleAdmin: both}},
	{"GET /v1/deliveries/{id}/attempts", get(func(e *env, site string) string { return "/v1/deliveries/" + e.newDelivery() + "/attempts" }),
		map[huella.Role][2]bool{huella.RoleSupervisor: both, huella.RoleAuditor: both, huella.RoleAdmin: both}},
	{"GET /v1/receipts", get(func(e *env, site string) string { return "/v1/receipts" }), map[huella.Role][2]bool{huella.RolePartner: both}},
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
// site, but not the personal data recorded there. The officer's claim that
// the person is a subject of the other site links the encounter because
// the biometrics verify it (TestClaimedSubject has the claims that fail).
func TestSubjectAcrossSites(t *testing.T) {
	e := MustOpenEnv(t)
	samples1, images1 := personA(t, 1)
	samples2, images2 := personA(t, 2)
	other := decode[huella.Encounter](t)(e.enroll("officer-cdmx", encounterWith("MX-CDMX", samples1), images1...))
	enc := strings.Replace(encounterWith("MX-TAP", samples2), `"site"`, `"subject_id": "`+other.SubjectID+`", "site"`, 1)
	linked := decode[huella.Encounter](t)(e.enroll("officer", enc, images2...))
	if linked.SubjectID != other.SubjectID || linked.Identification == nil || linked.Identification.Decision != huella.DecisionLinked {
		t.Fatalf("claimed link with the same person's fingers and irises: subject %s (want %s), %+v", linked.SubjectID, other.SubjectID, linked.Identification)
	}
	resp, body := e.do("officer", "GET", "/v1/subjects/"+other.SubjectID, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Contains(body, []byte(`"MX-CDMX"`)) {
		t.Errorf("the encounter at MX-CDMX is not listed")
	}
	if n := bytes.Count(body, []byte("Xochitl")); n != 1 {
		t.Errorf("names appear %d times, want only in the MX-TAP encounter", n)
	}
	if got, want := bytes.Count(body, []byte(`"image_ref"`)), len(images2); got != want {
		t.Errorf("%d samples shown, want the %d of the MX-TAP encounter only", got, want)
	}
}

// nistFile returns an ANSI/NIST-ITL transaction with one WSQ fingerprint.
func nistFile(tb testing.TB) []byte {
	tb.Helper()
	g, err := imgproc.DecodeGray(fingerImage(tb, "finger-107_1.png").data)
	if err != nil {
		tb.Fatal(err)
	}
	fp, err := ansinist.WSQFingerprint(2, 0, g, 500)
	if err != nil {
		tb.Fatal(err)
	}
	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: time.Now().Add(-48 * time.Hour),
		Destination: "HUELLA", Originator: "LIVESCAN1", ControlNumber: "TCN1"})
	tx.AddBiographics(ansinist.Biographics{Name: "QUETZALLI,XOCHITL", Sex: "F"}, nil)
	tx.AddFingerprint(fp)
	data, err := tx.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
