package tattoo_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

func TestTemplateCodec(t *testing.T) {
	images := bivtatt(t)
	tp := MustExtract(t, images, "9_3")
	data, err := tp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		var got tattoo.Template
		if err := got.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, tp) {
			t.Error("template changed in a round trip")
		}
	})
	t.Run("Version1", func(t *testing.T) {
		// A template stored before the global descriptor: no trailing count.
		v1 := append([]byte("HTT1"), data[4:len(data)-2-4*len(tp.Global)]...)
		var got tattoo.Template
		if err := got.UnmarshalBinary(v1); err != nil {
			t.Fatal(err)
		}
		if got.Global != nil || len(got.Keypoints) != len(tp.Keypoints) {
			t.Errorf("got %d keypoints and %d global values, want %d and none", len(got.Keypoints), len(got.Global), len(tp.Keypoints))
		}
	})
	t.Run("ErrBadTemplate", func(t *testing.T) {
		for _, bad := range [][]byte{nil, data[:10], data[:len(data)-1], append([]byte("XXXX"), data[4:]...)} {
			var got tattoo.Template
			if err := got.UnmarshalBinary(bad); !errors.Is(err, tattoo.ErrBadTemplate) {
				t.Errorf("got %v, want ErrBadTemplate", err)
			}
		}
	})
}

func FuzzTemplateUnmarshal(f *testing.F) {
	images := bivtatt(f)
	tp := MustExtract(f, images, "9_3")
	tp.Keypoints, tp.Descriptors = tp.Keypoints[:20], tp.Descriptors[:20]
	data, err := tp.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got tattoo.Template
		if err := got.UnmarshalBinary(data); err != nil {
			return
		}
		// A parsed template must be usable.
		tattoo.Compare(&got, &got)
		if _, err := got.MarshalBinary(); err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
	})
}
