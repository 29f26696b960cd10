package tattoo_test

import (
	"bytes"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

func TestVocabularyRoundTrip(t *testing.T) {
	images := bivtatt(t)
	var train [][]tattoo.Descriptor
	for _, n := range []string{"1_1", "9_1", "13_1"} {
		train = append(train, MustExtract(t, images, n).Descriptors)
	}
	v, err := tattoo.TrainVocabulary(train, 8, 2, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Size() != 64 {
		t.Fatalf("got %d words, want 64", v.Size())
	}
	var buf bytes.Buffer
	if _, err := v.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	w, err := tattoo.ReadVocabulary(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range train[0][:50] {
		if got, want := w.Word(&d), v.Word(&d); got != want {
			t.Fatalf("descriptor %d: word %d after round trip, want %d", i, got, want)
		}
	}
	if tattoo.DefaultVocabulary().Size() < 1024 {
		t.Errorf("default vocabulary has %d words, want a trained one", tattoo.DefaultVocabulary().Size())
	}
}

func FuzzReadVocabulary(f *testing.F) {
	var buf bytes.Buffer
	v, err := tattoo.TrainVocabulary([][]tattoo.Descriptor{{{1}, {2}, {3}, {1 << 40}}}, 2, 2, 2, 1)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("HTVOCAB1\xff\xff\xff\xff\x06\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := tattoo.ReadVocabulary(data)
		if err != nil {
			return
		}
		var d tattoo.Descriptor
		if w := v.Word(&d); w < 0 || w >= v.Size() {
			t.Fatalf("word %d outside 0..%d", w, v.Size())
		}
	})
}
