package http_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/internal/hostile"
)

// FuzzCreateEncounter posts whole enrollment requests, the multipart body
// and its JSON part, built from arbitrary values or given raw: the API
// answers every one without a 5xx or a panic, and a request it refuses
// stores nothing.
func FuzzCreateEncounter(f *testing.F) {
	finger, err := demo.Fixture("finger-101_1.png")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encounterJSON("MX-TAP"), "f2", finger, []byte(nil))
	f.Add(encounterJSON("MX-CDMX"), "f2", finger, []byte(nil))
	f.Add(`{"site":"MX-TAP","samples":[{"image":"f2","modality":"iris","eye":"left"}]}`, "f2", finger, []byte(nil))
	f.Add(`{"site":"MX-TAP","samples":[{"image":"x","modality":"face"}],"biographics":{"names":[{"given":"\u0000"}]}}`, "x", []byte("\x89PNG\r\n\x1a\n"), []byte(nil))
	f.Add(`{"site":1}`, "", []byte{}, []byte(nil))
	f.Add(`{"samples":[`, "f2", finger[:100], []byte(nil))
	for _, c := range hostile.Cases()[1:3] {
		f.Add(sampleJSON(c.Modality, c.PPI), "img", c.Data, []byte(nil))
	}
	f.Add("", "", []byte(nil), []byte("--fuzz\r\nContent-Disposition: form-data; name=\"encounter\"\r\n\r\n{}\r\n--fuzz--\r\n"))
	f.Add("", "", []byte(nil), []byte("--fuzz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--fuzz\r\n--fuzz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"))
	e := MustOpenEnv(f)
	h := e.api.Handler()
	f.Fuzz(func(t *testing.T, encounter, partName string, image, raw []byte) {
		e.t = t // the env's helpers report to this input's test
		before := e.snapshot()
		var body *bytes.Buffer
		var ct string
		if len(raw) > 0 {
			body, ct = bytes.NewBuffer(raw), "multipart/form-data; boundary=fuzz"
		} else {
			body, ct = multipartBody(t, encounter, part{name: partName, data: image})
		}
		req := httptest.NewRequest("POST", "/v1/encounters", body)
		req.Header.Set("Authorization", "Bearer "+e.tokens["officer"])
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusCreated {
			if after := e.snapshot(); after != before {
				t.Fatalf("refused with %d but stored: %+v, was %+v", rec.Code, after, before)
			}
		}
	})
}
