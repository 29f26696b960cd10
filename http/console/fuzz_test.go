package console_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzEnrollForm posts enrollment forms with arbitrary field values: the
// console answers with a page, never a 500 or a panic, whatever the input.
func FuzzEnrollForm(f *testing.F) {
	f.Add("MX-TAP", "2026-11-20T10:30", "Carlos", "Méndez", "1991", "4", "HND", "0801-1990-12345", "TAT L ARM", "BLACK", "finger_status_3", "amputated")
	f.Add("", "", "", "", "", "", "", "", "", "", "", "")
	f.Add("MX-CDMX", "2026-13-40T99:99", "\xff\xfe", strings.Repeat("x", 300), "-1", "99", "xx", "<script>", "SC\x00", "PINK", "smt_type_0", "tattoo")
	f.Add("XX-YY", "1999-01-01T00:00", "a", "", "1800", "0", "XXA", " ", "MOLE FACE", "MULTI", "subject_id", "sub_00000000000000000000000000")
	e := mustOpen(f)
	h := e.handler(false)
	b := mustSignInRecorder(f, e, h, "oficial.tapachula")
	f.Fuzz(func(t *testing.T, site, captured, given, family, year, month, nationality, doc, code, color, extraName, extraValue string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"csrf": b.csrf, "site": site, "captured_at": captured, "reason": "apprehension", "history": "none",
			"given_0": given, "family_0": family, "birth_year": year, "birth_month": month, "nationality": nationality,
			"doc_type_0": "passport", "doc_number_0": doc, "smt_type_0": "tattoo", "smt_code_0": code, "smt_colors_0": color, extraName: extraValue} {
			mw.WriteField(k, v)
		}
		mw.Close()
		req := httptest.NewRequest("POST", "https://console.test/enroll", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(b.session)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusSeeOther && !strings.Contains(rec.Body.String(), "</html>") {
			t.Fatalf("status %d without a page", rec.Code)
		}
	})
}

// recorderSession is a signed-in session for requests served in memory.
type recorderSession struct {
	session *http.Cookie
	csrf    string
}

// mustSignInRecorder signs in through the handler, without a server.
func mustSignInRecorder(tb testing.TB, e *env, h http.Handler, name string) *recorderSession {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://console.test/signin", nil))
	var anon *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "huella_csrf" {
			anon = c
		}
	}
	if anon == nil {
		tb.Fatal("no CSRF cookie on the sign-in page")
	}
	form := "token=" + e.tokens[name] + "&csrf=" + anon.Value
	req := httptest.NewRequest("POST", "https://console.test/signin", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(anon)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	s := &recorderSession{}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "huella_session" && c.Value != "" {
			s.session = c
		}
	}
	if s.session == nil {
		tb.Fatalf("sign in as %s: %d", name, rec.Code)
	}
	req = httptest.NewRequest("GET", "https://console.test/enroll", nil)
	req.AddCookie(s.session)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	m := csrfPattern.FindStringSubmatch(rec.Body.String())
	if m == nil {
		tb.Fatalf("no CSRF token on /enroll: %d", rec.Code)
	}
	s.csrf = m[1]
	return s
}
