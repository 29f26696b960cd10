package shard_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
	"github.com/huella-abis/huella/shard"
)

// BenchmarkSnapshotS3 writes a snapshot of 20,000 synthetic iris subjects
// in 2 shards to the S3 test server, then loads shard 0 from it, beside
// the same load from an unsealed snapshot in memory: what the object
// store and the sealing add to a matcher's start.
//
//	HUELLA_TEST_S3=… go test -run '^$' -bench SnapshotS3 -benchtime 1x ./shard/
func BenchmarkSnapshotS3(b *testing.B) {
	objects := MustObjects(b)
	mods := map[huella.Modality]bool{huella.ModalityIris: true}
	gen := synth.New(2026)
	const subjects = 20_000
	p := &population{}
	for i := range subjects {
		p.templates = append(p.templates, gen.Person(mods).Templates(fmt.Sprintf("sub_%08d", i), mods)...)
	}
	ctx := context.Background()
	var local bytes.Buffer
	w, _ := gallery.NewSnapshotWriter(&local)
	for _, t := range p.templates {
		if shard.Of(t.SubjectID, 2) == 0 {
			w.Write(t)
		}
	}
	w.Close()
	for range b.N {
		start := time.Now()
		man, err := shard.WriteSnapshots(ctx, &populationSource{p: p, head: 1}, objects, 2, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		write := time.Since(start)
		start = time.Now()
		m := &shard.Matcher{Spec: shard.Spec{0, 2}, Gallery: newGallery(b)}
		if _, n, err := m.LoadSnapshot(ctx, objects); err != nil || n != man.Templates[0] {
			b.Fatalf("loaded %d templates, %v; want %d", n, err, man.Templates[0])
		}
		load := time.Since(start)
		start = time.Now()
		g := newGallery(b)
		if _, err := g.LoadSnapshot(bytes.NewReader(local.Bytes())); err != nil {
			b.Fatal(err)
		}
		memory := time.Since(start)
		b.ReportMetric(write.Seconds(), "write-s")
		b.ReportMetric(load.Seconds(), "load-shard-s")
		b.ReportMetric(memory.Seconds(), "load-memory-s")
		b.ReportMetric(float64(local.Len())/1e6, "shard-MB")
	}
}
