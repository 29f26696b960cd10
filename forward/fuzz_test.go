package forward_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/huella-abis/huella/forward"
)

// FuzzVerify feeds arbitrary key sets, key IDs, signatures and bodies to
// the verification a partner runs: it must never panic, and must accept
// only a signature made by the named key over the exact body.
func FuzzVerify(f *testing.F) {
	ring, err := forward.LoadOrCreateKeyRing(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	set, _ := json.Marshal(ring.JWKS())
	body := []byte(`{"delivery_id":"dlv_1","subject_ref":"sub_1"}`)
	sig, kid, _ := ring.Sign("", body)
	f.Add(set, kid, sig, body)
	f.Add(set, kid, sig, []byte(`{"delivery_id":"dlv_2"}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`), "k", "AAAA", body)
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k"}]}`), "k", "", []byte{})
	f.Fuzz(func(t *testing.T, setJSON []byte, kid, signature string, data []byte) {
		var keys forward.JWKS
		if json.Unmarshal(setJSON, &keys) != nil {
			return
		}
		err := keys.Verify(kid, signature, data)
		if err == nil && string(setJSON) == string(set) && string(data) == string(body) {
			// Ed25519 signatures are unique per key and message: another
			// valid one for the same body would be a forgery.
			got, _ := base64.RawURLEncoding.DecodeString(signature)
			want, _ := base64.RawURLEncoding.DecodeString(sig)
			if string(got) != string(want) {
				t.Fatalf("a different signature verified: %q", signature)
			}
		}
	})
}
