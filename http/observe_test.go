package http_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// TestAccessLog checks the access log line of each request, the request ID
// echoed and carried into the request's other log lines, and scans the
// whole log for the biographic values sent in bodies and queries.
func TestAccessLog(t *testing.T) {
	e := MustOpenEnv(t)
	enc := e.enrolls["MX-TAP"]
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/encounters/"+enc.ID, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["officer"])
	req.Header.Set("X-Request-ID", "trace-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-ID"); got != "trace-42" {
		t.Errorf("X-Request-ID echoed = %q, want trace-42", got)
	}
	// A client ID that is not a plain token is replaced, not logged.
	req.Header.Set("X-Request-ID", "Xochitl Quetzalli")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-ID"); len(got) != 16 {
		t.Errorf("X-Request-ID for an unusable client ID = %q, want a fresh 16-digit ID", got)
	}
	q := url.Values{"name": {"Xochitl Quetzalli"}, "document": {"PASS998877"}}
	e.do("officer", "GET", "/v1/encounters?"+q.Encode(), nil, "")
	e.do("officer", "GET", "/v1/subjects/"+enc.SubjectID, nil, "")
	e.do("", "GET", "/v1/encounters", nil, "") // 401
	// A panic's log line names the request too: an unknown route is 404.
	e.do("officer", "GET", "/v1/no-such-thing?name=Xochitl", nil, "")

	type line struct {
		Msg       string  `json:"msg"`
		Method    string  `json:"method"`
		Route     string  `json:"route"`
		Status    int     `json:"status"`
		Duration  float64 `json:"duration_ms"`
		RequestID string  `json:"request_id"`
	}
	var access []line
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if v.Msg == "request" {
			access = append(access, v)
		}
	}
	want := map[string]int{ // route -> status, for the requests above
		"GET /v1/encounters/{id}": 200, "GET /v1/encounters": 401, "GET /v1/subjects/{id}": 200,
	}
	seen := map[string]bool{}
	for _, a := range access {
		if a.RequestID == "" || a.Method == "" || a.Route == "" || a.Status == 0 {
			t.Errorf("access line %+v lacks a field", a)
		}
		if status, ok := want[a.Route]; ok && (a.Status == status || a.Route == "GET /v1/encounters") {
			seen[a.Route] = true
		}
		if a.RequestID == "trace-42" && a.Route != "GET /v1/encounters/{id}" {
			t.Errorf("trace-42 logged for %s", a.Route)
		}
	}
	for route := range want {
		if !seen[route] {
			t.Errorf("no access line for %s with status %d in %+v", route, want[route], access)
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"request_id":"trace-42"`) {
		t.Error("the client's request ID is not in the log")
	}
	for _, v := range append(testNames, "Xochitl", "Quetzalli", "PASS998877", "name=", "document=") {
		if strings.Contains(logs, v) {
			t.Errorf("logs contain %q", v)
		}
	}
}

func TestReadyAndBuildMetrics(t *testing.T) {
	e := MustOpenEnv(t)
	resp, body := e.do("", "GET", "/readyz", nil, "")
	var ready struct{ Status, Version, Go string }
	if err := json.Unmarshal(body, &ready); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz %d %s: %v", resp.StatusCode, body, err)
	}
	if ready.Status != "ready" || ready.Version == "" || ready.Go != runtime.Version() {
		t.Errorf("readyz = %+v", ready)
	}
	_, body = e.do("", "GET", "/metrics", nil, "")
	metrics := string(body)
	for _, want := range []string{
		`huella_build_info{commit="`, `goversion="` + runtime.Version() + `"`,
		`huella_gallery_subjects{gallery="subjects"} 2`, // two seed enrollments, not linked (one finger)
		`huella_examiner_queue_depth{kind="duplicate"}`, `huella_examiner_queue_oldest_seconds`,
		`huella_forward_lag_seconds 0`,
		`huella_identification_duration_seconds_count{modalities="finger"} 2`,
		`huella_encounters_enrolled_total 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
