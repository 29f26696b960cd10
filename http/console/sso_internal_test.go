package console

import (
	"testing"
	"time"
)

// FuzzSignOnCookie feeds the sealed login cookie's decoder arbitrary
// values: it must never panic, and must accept only what it sealed (the one
// login here, however its base64 is written).
func FuzzSignOnCookie(f *testing.F) {
	s := newSignOnClient(&SignOn{})
	want := pendingLogin{State: "st", Nonce: "n", Verifier: "v", Next: "/", Expires: time.Unix(1, 0).UTC()}
	sealed := s.seal(want)
	for _, seed := range []string{"", "x", sealed, sealed[:len(sealed)-1], sealed + "A", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if p, ok := s.open(v); ok && p != want {
			t.Errorf("open(%q) accepted a value it did not seal: %+v", v, p)
		}
	})
}

func TestSignOnCookie(t *testing.T) {
	s := newSignOnClient(&SignOn{})
	want := pendingLogin{State: "st", Nonce: "n", Verifier: "v", Next: "/hits", Expires: time.Unix(1700000000, 0).UTC()}
	got, ok := s.open(s.seal(want))
	if !ok || got != want {
		t.Errorf("open(seal(x)) = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := newSignOnClient(&SignOn{}).open(s.seal(want)); ok {
		t.Error("another console (another key) opened the cookie")
	}
}
