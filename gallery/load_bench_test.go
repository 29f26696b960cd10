package gallery_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
)

// BenchmarkLoadSnapshot times the warm start of 2,000 synthetic ten-print
// subjects into the two-stage finger index; ns/op is per subject.
func BenchmarkLoadSnapshot(b *testing.B) {
	const subjects = 2000
	fingers := map[huella.Modality]bool{huella.ModalityFinger: true}
	var buf bytes.Buffer
	w, err := gallery.NewSnapshotWriter(&buf)
	if err != nil {
		b.Fatal(err)
	}
	gen := synth.New(2026)
	for i := range subjects {
		for _, t := range gen.Person(fingers).Templates(fmt.Sprintf("sub_%08d", i), fingers) {
			if err := w.Write(t); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	cals := fusion.Set{"finger": linear}
	b.ResetTimer()
	for b.Loop() {
		g := gallery.New([]engine.Engine{engine.Finger{}}, cals)
		if _, err := g.LoadSnapshot(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subjects), "ns/subject")
}
