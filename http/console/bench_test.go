package console_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkPages renders the main pages over the demo data, in memory,
// each request with its session lookup and, for reads of personal data,
// its audit event (a synced SQLite write).
func BenchmarkPages(b *testing.B) {
	e := mustOpen(b)
	h := e.handler(false)
	for _, tc := range []struct{ name, user, path string }{
		{"SignInPage", "", "/signin"},
		{"Dashboard", "supervisor", "/dashboard"},
		{"Enroll", "oficial.tapachula", "/enroll"},
		{"Subject", "supervisor", "/subjects/" + e.subject},
		{"Search", "supervisor", "/search?q=mendez"},
		{"Encounters", "supervisor", "/encounters"},
		{"Audit", "auditor", "/audit"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var s *recorderSession
			if tc.user != "" {
				s = mustSignInRecorder(b, e, h, tc.user)
			}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "https://console.test"+tc.path, nil)
				if s != nil {
					req.AddCookie(s.session)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", tc.path, rec.Code)
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}
