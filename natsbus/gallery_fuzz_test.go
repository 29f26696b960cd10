package natsbus_test

import (
	"encoding/json"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/natsbus"
)

// FuzzDecodeGalleryEvent: any bytes on the gallery stream give an event
// that re-encodes to itself, or a clear error; never a panic, never an
// event without a seq or with an unknown op.
func FuzzDecodeGalleryEvent(f *testing.F) {
	for _, seed := range []string{
		`{"seq":1,"op":"enroll","subject":"sub_1","encounter_id":"enc_1","sample_ids":["smp_1","smp_2"],"at":"2026-12-07T17:00:00Z"}`,
		`{"seq":2,"op":"merge","subject":"sub_2","other":"sub_1","at":"2026-12-07T17:00:00Z"}`,
		`{"seq":3,"op":"purge","subject":"sub_1","subjects":["sub_1","sub_2"],"at":"2026-12-07T17:00:00Z"}`,
		`{"seq":4,"op":"watch-remove","watch_entry_id":"wle_1","at":"2026-12-07T17:00:00Z"}`,
		`{"seq":0,"op":"enroll"}`, `{"seq":5,"op":"rename"}`, `{"seq":"x"}`, `[]`, ``, `{"seq":1e30,"op":"purge"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := natsbus.DecodeGalleryEvent(data)
		if err != nil {
			if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.EUNSUPPORTED {
				t.Fatalf("error code %s for bad input: %v", code, err)
			}
			return
		}
		if ev.Seq < 1 || ev.Op == "" {
			t.Fatalf("decoded an event without seq or op: %+v", ev)
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := natsbus.DecodeGalleryEvent(again)
		if err != nil || back.Seq != ev.Seq || back.Op != ev.Op || len(back.SampleIDs) != len(ev.SampleIDs) {
			t.Fatalf("re-encoded event %s decodes to %+v, %v", again, back, err)
		}
	})
}
