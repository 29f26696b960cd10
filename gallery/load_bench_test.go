//go:build unix

package gallery_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

var loadSubjects = flag.Int("load-subjects", 20_000, "BenchmarkLoadSnapshotAll: subjects in the snapshot")

// BenchmarkLoadSnapshotAll times the warm start, from a snapshot file, of
// -load-subjects subjects with ten fingers, two irises and a face into a
// gallery whose finger templates stay in the store (bench identify's
// default). The snapshot repeats 2,000 synthetic subjects under new IDs
// and sample IDs (generating a million is an hour of finger descriptors;
// loading does not look at whether templates repeat). cpu-s/op is the
// process's CPU time over every core, wall-s/op the elapsed time.
func BenchmarkLoadSnapshotAll(b *testing.B) {
	const distinct = 2000
	all := map[huella.Modality]bool{huella.ModalityFinger: true, huella.ModalityIris: true, huella.ModalityFace: true}
	gen := synth.New(2026)
	var people [][]*huella.Template
	for range min(distinct, *loadSubjects) {
		people = append(people, gen.Person(all).Templates("", all))
	}
	path := filepath.Join(b.TempDir(), "gallery.snapshot")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	w, err := gallery.NewSnapshotWriter(bw)
	if err != nil {
		b.Fatal(err)
	}
	sample := 0
	for i := range *loadSubjects {
		for _, t := range people[i%len(people)] {
			sample++
			c := *t
			c.SubjectID, c.SampleID = fmt.Sprintf("sub_%08d", i), fmt.Sprintf("smp_%012d", sample)
			if err := w.Write(&c); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	cals := fusion.Set{"finger": linear, "iris": linear, "face": linear}
	var cpu, wall time.Duration
	b.ResetTimer()
	for b.Loop() {
		g := gallery.New([]engine.Engine{engine.Finger{}, engine.Iris{}, &engine.Face{}}, cals)
		g.Templates = &mapStore{}
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		c0, t0 := processCPU(), time.Now()
		if n, err := g.LoadSnapshot(f); err != nil || n != sample {
			b.Fatalf("LoadSnapshot = %d, %v; want %d", n, err, sample)
		}
		cpu, wall = cpu+processCPU()-c0, wall+time.Since(t0)
		f.Close()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N**loadSubjects), "cpu-ns/subject")
}

// processCPU is the CPU time the process has used, every thread.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
