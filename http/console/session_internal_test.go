package console

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzSessionPrivate feeds the decoder of a session's private data (what
// the store keeps, sealed under a key made from the session's ID)
// arbitrary bytes: it must never panic, and must accept only what was
// sealed under that ID.
func FuzzSessionPrivate(f *testing.F) {
	const id = "session-id-of-the-fuzz-test"
	sess := &session{ID: id, IDToken: "eyJhbGciOi.x.y", Result: &enrollResult{EncounterID: "enc_1", Fingers: 10}}
	sealed, err := sealPrivate(sess)
	if err != nil {
		f.Fatal(err)
	}
	if p, ok := openPrivate(id, sealed); !ok || p.IDToken != sess.IDToken || !reflect.DeepEqual(p.Result, sess.Result) {
		f.Fatalf("round trip: %+v, %v", p, ok)
	}
	if _, ok := openPrivate("another-session", sealed); ok {
		f.Fatal("another session's ID opened the data")
	}
	for _, seed := range [][]byte{nil, {}, sealed, sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0), bytes.Repeat([]byte{0}, 40)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each fuzzing worker seals with its own nonce: what opens must be
		// what was sealed, whichever worker sealed it.
		if p, ok := openPrivate(id, data); ok && (p.IDToken != sess.IDToken || !reflect.DeepEqual(p.Result, sess.Result)) {
			t.Errorf("openPrivate accepted %x, which was not sealed here: %+v", data, p)
		}
	})
}
