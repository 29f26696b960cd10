package sitelink_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sitelink"
)

func TestUploadRoundTrip(t *testing.T) {
	in := &sitelink.Upload{
		Encounter: &huella.Encounter{ID: "enc_1", SiteCode: "MX-TIJ", Samples: []*huella.Sample{
			{Modality: huella.ModalityFace}, {Modality: huella.ModalityFinger, Position: 1}}},
		Images: [][]byte{bytes.Repeat([]byte{1}, 1000), {2, 3}},
	}
	data, err := sitelink.EncodeUpload(in)
	if err != nil {
		t.Fatal(err)
	}
	// The images travel as they are: the overhead is the record alone.
	if over := len(data) - 1002; over > 1024 {
		t.Errorf("upload of 1002 image bytes takes %d bytes: %d over", len(data), over)
	}
	out, err := sitelink.DecodeUpload(data)
	if err != nil {
		t.Fatal(err)
	}
	if out.Encounter.ID != "enc_1" || len(out.Images) != 2 || !bytes.Equal(out.Images[0], in.Images[0]) || !bytes.Equal(out.Images[1], in.Images[1]) {
		t.Errorf("round trip: got %+v", out)
	}
	for _, bad := range [][]byte{nil, []byte("HSU1"), data[:len(data)-1], append(bytes.Clone(data), 0), []byte("XXXX\x00\x00\x00\x02{}")} {
		if _, err := sitelink.DecodeUpload(bad); !errors.Is(err, sitelink.ErrBadUpload) {
			t.Errorf("DecodeUpload(%q): %v, want ErrBadUpload", bad, err)
		}
	}
}

func FuzzDecodeUpload(f *testing.F) {
	good, _ := sitelink.EncodeUpload(&sitelink.Upload{
		Encounter: &huella.Encounter{ID: "enc_1", SiteCode: "MX-TIJ", Samples: []*huella.Sample{{Modality: huella.ModalityFace}}},
		Images:    [][]byte{{1, 2, 3}},
	})
	f.Add(good)
	f.Add([]byte("HSU1\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := sitelink.DecodeUpload(data)
		if err != nil {
			if !errors.Is(err, sitelink.ErrBadUpload) {
				t.Fatalf("error %v is not ErrBadUpload", err)
			}
			return
		}
		if len(u.Images) != len(u.Encounter.Samples) {
			t.Fatalf("%d images for %d samples", len(u.Images), len(u.Encounter.Samples))
		}
		again, err := sitelink.EncodeUpload(u)
		if err != nil {
			t.Fatalf("a decoded upload does not encode: %v", err)
		}
		if _, err := sitelink.DecodeUpload(again); err != nil {
			t.Fatalf("re-encoded upload does not decode: %v", err)
		}
	})
}
