package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// TestBadInput: every kind of bad enrollment gets a 4xx with {code,
// message}, and nothing is stored: no encounter, no image.
func TestBadInput(t *testing.T) {
	e := MustOpenEnv(t)
	good := encounterJSON("MX-TAP")
	img := fingerImage(t, "finger-102_1.png")
	future := strings.Replace(good, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339), 1)
	truncated := part{name: "f2", data: img.data[:len(img.data)/2]}
	tests := []struct {
		name      string
		encounter string
		images    []part
		wantCode  string
	}{
		{"ErrMalformedJSON", `{"site": "MX-TAP",`, []part{img}, huella.EINVALID},
		{"ErrUnknownField", strings.Replace(good, `"reason"`, `"colour": "blue", "reason"`, 1), []part{img}, huella.EINVALID},
		{"ErrWrongType", strings.Replace(good, `"position": 2`, `"position": "two"`, 1), []part{img}, huella.EINVALID},
		{"ErrFutureCapture", future, []part{img}, huella.EINVALID},
		{"ErrFutureBirth", strings.Replace(good, `"year": 1995`, `"year": 2999`, 1), []part{img}, huella.EINVALID},
		{"ErrUnknownSite", strings.Replace(good, `"MX-TAP"`, `"MX-ZZZ"`, 1), []part{img}, huella.EFORBIDDEN},
		{"ErrBadNationality", strings.Replace(good, `"nationality": "GTM"`, `"nationality": "GT"`, 1), []part{img}, huella.EINVALID},
		{"ErrBadReason", strings.Replace(good, `"apprehension"`, `"vacation"`, 1), []part{img}, huella.EINVALID},
		{"ErrBadPosition", strings.Replace(good, `"position": 2`, `"position": 11`, 1), []part{img}, huella.EINVALID},
		{"ErrNoImagePart", good, nil, huella.EINVALID},
		{"ErrExtraImagePart", good, []part{img, {name: "stray", data: img.data}}, huella.EINVALID},
		{"ErrImageNotAnImage", good, []part{{name: "f2", data: []byte("this is not an image at all")}}, huella.EINVALID},
		{"ErrImageTruncated", good, []part{truncated}, huella.EINVALID},
		{"ErrNoEncounterPart", "", []part{img}, huella.EINVALID},
		{"ErrAbsentFingerWithSample", withAbsences(good, `{"position": 2, "reason": "amputated"}`), []part{img}, huella.EINVALID},
		{"ErrAbsencePosition", withAbsences(good, `{"position": 11, "reason": "amputated"}`), []part{img}, huella.EINVALID},
		{"ErrAbsenceReason", withAbsences(good, `{"position": 3, "reason": "XX"}`), []part{img}, huella.EINVALID},
		{"ErrAbsenceTwice", withAbsences(good, `{"position": 3, "reason": "amputated"}, {"position": 3, "reason": "unprintable"}`), []part{img}, huella.EINVALID},
		{"ErrAbsenceWrongType", withAbsences(good, `{"position": "three", "reason": "amputated"}`), []part{img}, huella.EINVALID},
		{"ErrAbsenceUnknownField", withAbsences(good, `{"position": 3, "reason": "amputated", "finger": "ring"}`), []part{img}, huella.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			var resp *http.Response
			var body []byte
			if tt.encounter == "" {
				buf, ct := multipartBody(t, "{}", tt.images...)
				// Drop the encounter part by renaming it.
				raw := bytes.Replace(buf.Bytes(), []byte(`name="encounter"`), []byte(`name="other"`), 1)
				resp, body = e.do("officer", "POST", "/v1/encounters", bytes.NewReader(raw), ct)
			} else {
				resp, body = e.enroll("officer", tt.encounter, tt.images...)
			}
			checkError(t, resp, body, tt.wantCode)
			if after := e.snapshot(); after != before {
				t.Errorf("store changed: before %+v, after %+v", before, after)
			}
		})
	}
	t.Run("ErrAbsentFingerWithSampleMessage", func(t *testing.T) {
		// The officer learns which finger is both printed and absent.
		resp, body := e.enroll("officer", withAbsences(good, `{"position": 2, "reason": "unprintable"}`), img)
		checkError(t, resp, body, huella.EINVALID)
		if want := "finger at position 2 is marked unprintable but has a sample"; !strings.Contains(string(body), want) {
			t.Errorf("body %s, want a message with %q", body, want)
		}
	})
	t.Run("ErrNotMultipart", func(t *testing.T) {
		resp, body := e.do("officer", "POST", "/v1/encounters", strings.NewReader(good), "application/json")
		checkError(t, resp, body, huella.EINVALID)
	})
	t.Run("ErrImageTooLarge", func(t *testing.T) {
		before := e.snapshot()
		e.api.Enroll.MaxImageSize = 1000
		defer func() { e.api.Enroll.MaxImageSize = 0 }()
		resp, body := e.enroll("officer", good, img)
		checkError(t, resp, body, huella.ETOOLARGE)
		if after := e.snapshot(); after != before {
			t.Errorf("store changed: before %+v, after %+v", before, after)
		}
	})
	t.Run("ErrRequestTooLarge", func(t *testing.T) {
		before := e.snapshot()
		e.api.MaxRequestSize = 10000
		defer func() { e.api.MaxRequestSize = 0 }()
		resp, body := e.enroll("officer", good, img)
		checkError(t, resp, body, huella.ETOOLARGE)
		if after := e.snapshot(); after != before {
			t.Errorf("store changed: before %+v, after %+v", before, after)
		}
	})
	t.Run("ErrCreateSiteUnknownField", func(t *testing.T) {
		resp, body := e.do("admin", "POST", "/v1/sites", strings.NewReader(`{"code":"MX-TIJ","name":"Tijuana","country":"MEX","time_zone":"America/Tijuana","extra":1}`), "application/json")
		checkError(t, resp, body, huella.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		resp, body := e.do("supervisor", "GET", "/v1/encounters/enc_nope", nil, "")
		checkError(t, resp, body, huella.ENOTFOUND)
	})
}

// withAbsences adds finger_absences, a list of the JSON objects given, to
// the encounter JSON.
func withAbsences(encounter, absences string) string {
	return strings.Replace(encounter, `"samples":`, `"finger_absences": [`+absences+`], "samples":`, 1)
}

func checkError(t *testing.T, resp *http.Response, body []byte, wantCode string) {
	t.Helper()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("status %d, want 4xx: %s", resp.StatusCode, body)
	}
	var got struct{ Code, Message string }
	if err := json.Unmarshal(body, &got); err != nil || got.Message == "" {
		t.Fatalf("body %s is not {code, message}", body)
	}
	if got.Code != wantCode {
		t.Errorf("code %q (%s), want %q", got.Code, got.Message, wantCode)
	}
}

// TestLogsCarryNoPersonalData runs good and bad requests and scans the
// captured logs for the biographic values and image bytes sent.
func TestLogsCarryNoPersonalData(t *testing.T) {
	e := MustOpenEnv(t)
	img := fingerImage(t, "finger-103_1.png")
	e.enroll("officer", encounterJSON("MX-TAP"), img)
	e.enroll("officer", strings.Replace(encounterJSON("MX-TAP"), `"F"`, `"Q"`, 1), img)
	e.enroll("officer", encounterJSON("MX-TAP"), part{name: "f2", data: img.data[:500]})
	e.do("officer", "GET", "/v1/encounters/"+e.enrolls["MX-TAP"].ID, nil, "")
	e.do("officer", "GET", "/v1/samples/"+e.enrolls["MX-TAP"].Samples[0].ID+"/image", nil, "")
	logs := e.logs.String()
	for _, v := range testNames {
		if strings.Contains(logs, v) {
			t.Errorf("logs contain the biographic value %q", v)
		}
	}
	for i := 0; i+32 <= len(img.data); i += 4096 {
		if strings.Contains(logs, string(img.data[i:i+32])) {
			t.Fatalf("logs contain image bytes")
		}
	}
}
