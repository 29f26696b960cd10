package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// purgeData is a data directory holding subjects last seen 12 years ago
// (two, one with a merged-in encounter's images), a subject seen
// recently, one with a declared conviction and one with a pending hit,
// each encounter's image a real blob.
type purgeData struct {
	dir                  string
	expired, kept        []*huella.Encounter
	expiredRefs, allRefs []string
}

func mustPurgeData(t *testing.T) *purgeData {
	t.Helper()
	d := &purgeData{dir: t.TempDir()}
	MustRun(t, "site", "add", "--data", d.dir, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	app := mustOpenApp(t, d.dir)
	defer app.Close()
	store, blobs := app.Store.(*sqlite.Store), app.Blobs
	ctx := storetest.Context()
	create := func(e *huella.Encounter, expired bool) *huella.Encounter {
		t.Helper()
		for _, smp := range e.Samples {
			ref, err := blobs.Put(ctx, []byte("image "+smp.ImageRef))
			if err != nil {
				t.Fatal(err)
			}
			smp.ImageRef = ref
			d.allRefs = append(d.allRefs, ref)
			if expired {
				d.expiredRefs = append(d.expiredRefs, ref)
			}
		}
		storetest.MustCreateEncounter(t, store, e)
		if expired {
			d.expired = append(d.expired, e)
		} else {
			d.kept = append(d.kept, e)
		}
		return e
	}
	old := time.Now().AddDate(-12, 0, 0)
	create(storetest.Encounter("MX-TAP", old), true)
	create(storetest.Encounter("MX-TAP", old.Add(time.Hour)), true)
	create(storetest.Encounter("MX-TAP", time.Now().AddDate(-1, 0, 0)), false)
	convicted := storetest.Encounter("MX-TAP", old.Add(2*time.Hour))
	convicted.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo"}
	create(convicted, false)
	candidate := create(storetest.Encounter("MX-TAP", old.Add(3*time.Hour)), false)
	probe := create(storetest.Encounter("MX-TAP", time.Now().Add(-time.Hour)), false)
	hit := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: probe.ID, CandidateSubjectID: candidate.SubjectID,
		Candidate: &huella.Candidate{SubjectID: candidate.SubjectID, LLR: 8}}
	if err := store.CreateHits(ctx, []*huella.Hit{hit}); err != nil {
		t.Fatal(err)
	}
	return d
}

// subjects returns whether each encounter's subject is still found.
func (d *purgeData) found(t *testing.T, list []*huella.Encounter) []bool {
	t.Helper()
	app := mustOpenApp(t, d.dir)
	defer app.Close()
	store := app.Store
	var out []bool
	for _, e := range list {
		_, err := store.FindSubject(context.Background(), e.SubjectID)
		out = append(out, err == nil)
	}
	return out
}

// blobExists reports whether the blob's file is on disk.
func (d *purgeData) blobExists(ref string) bool {
	_, err := os.Stat(filepath.Join(d.dir, "blobs", ref[:2], ref[2:4], ref))
	return err == nil
}

// TestPurgeOlderThan runs "huella purge --older-than 10y", first as a dry
// run, and checks that the expired subjects and their images go, the
// others stay, the output carries counts and no personal data, and the
// audit chain verifies.
func TestPurgeOlderThan(t *testing.T) {
	d := mustPurgeData(t)
	t.Run("DryRun", func(t *testing.T) {
		out := MustRun(t, "purge", "--data", d.dir, "--older-than", "10y", "--dry-run")
		for _, want := range []string{"2 to purge", "1 with a pending hit", "1 with a declared conviction", "dry run: nothing purged"} {
			if !strings.Contains(out, want) {
				t.Errorf("dry run output %q lacks %q", out, want)
			}
		}
		for i, found := range d.found(t, d.expired) {
			if !found {
				t.Errorf("expired subject %d purged by a dry run", i)
			}
		}
		for _, ref := range d.expiredRefs {
			if !d.blobExists(ref) {
				t.Fatalf("blob %s deleted by a dry run", ref)
			}
		}
	})
	for name, args := range map[string][]string{
		"ErrBadDuration":  {"--older-than", "ten years"},
		"ErrZero":         {"--older-than", "0y"},
		"ErrUnit":         {"--older-than", "10m"},
		"ErrNoNumber":     {"--older-than", "y"},
		"ErrTwoModes":     {"--older-than", "10y", "--orphans"},
		"ErrNoMode":       {},
		"ErrNoReason":     {"--subject", d.expired[0].SubjectID},
		"ErrBadReason":    {"--subject", d.expired[0].SubjectID, "--reason", "cleanup"},
		"ErrUnknown":      {"--subject", "sub_00000000000000000000000000", "--reason", "court-order"},
		"ErrShortGrace":   {"--orphans", "--grace", "5m"},
		"ErrDryRunSingle": {"--subject", d.expired[0].SubjectID, "--reason", "court-order", "--dry-run"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"purge", "--data", d.dir}, args...), &stdout, &stderr)
			if err == nil {
				t.Fatalf("purge %v succeeded: %s", args, stdout.String())
			}
			if err.Error() == "" || strings.Contains(err.Error(), "internal") {
				t.Errorf("unclear error: %v", err)
			}
			for i, found := range d.found(t, append(d.expired, d.kept...)) {
				if !found {
					t.Errorf("subject %d purged by a refused command", i)
				}
			}
		})
	}

	out := MustRun(t, "purge", "--data", d.dir, "--older-than", "10y")
	if !strings.Contains(out, "purged 2 subjects") || !strings.Contains(out, "26 samples") {
		t.Errorf("output %q, want 2 subjects and their 26 samples purged", out)
	}
	if regexp.MustCompile(`Ana|Lucía|Pérez|robo`).MatchString(out) {
		t.Errorf("output carries personal data: %q", out)
	}
	for i, found := range d.found(t, d.expired) {
		if found {
			t.Errorf("expired subject %d still found", i)
		}
	}
	for i, found := range d.found(t, d.kept) {
		if !found {
			t.Errorf("kept subject %d was purged", i)
		}
	}
	for _, ref := range d.allRefs {
		if want := !slices.Contains(d.expiredRefs, ref); d.blobExists(ref) != want {
			t.Errorf("blob %s on disk = %t, want %t", ref, !want, want)
		}
	}
	if out := MustRun(t, "audit", "verify", "--data", d.dir); !strings.Contains(out, "intact") {
		t.Errorf("audit verify after the purge: %q", out)
	}
	if out := MustRun(t, "purge", "--data", d.dir, "--older-than", "10y"); !strings.Contains(out, "0 to purge") {
		t.Errorf("a second run: %q, want nothing left to purge", out)
	}
}

// TestPurgeSubjectAndOrphans purges one subject on order, then sweeps an
// orphan blob left as by a crash.
func TestPurgeSubjectAndOrphans(t *testing.T) {
	d := mustPurgeData(t)
	out := MustRun(t, "purge", "--data", d.dir, "--subject", d.kept[0].SubjectID, "--reason", "court-order")
	if !strings.Contains(out, "purged subject "+d.kept[0].SubjectID+" (court-order)") || !strings.Contains(out, "13 blobs deleted") {
		t.Errorf("output %q", out)
	}
	if d.found(t, d.kept[:1])[0] {
		t.Error("the subject is still found")
	}
	// An orphan, as a crash between a purge's commit and its deletions
	// leaves: written two days ago, named by no record.
	app := mustOpenApp(t, d.dir)
	orphan, err := app.Blobs.Put(context.Background(), []byte("an image whose record is gone"))
	app.Close()
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(d.dir, "blobs", orphan[:2], orphan[2:4], orphan), old, old)
	for _, ref := range d.allRefs {
		os.Chtimes(filepath.Join(d.dir, "blobs", ref[:2], ref[2:4], ref), old, old)
	}
	if out := MustRun(t, "purge", "--data", d.dir, "--orphans", "--dry-run"); !strings.Contains(out, "1 orphans") || !d.blobExists(orphan) {
		t.Errorf("dry run: %q, orphan on disk %t", out, d.blobExists(orphan))
	}
	if out := MustRun(t, "purge", "--data", d.dir, "--orphans"); !strings.Contains(out, "deleted 1") {
		t.Errorf("sweep: %q", out)
	}
	if d.blobExists(orphan) {
		t.Error("the orphan is still on disk")
	}
	for _, e := range d.kept[1:] {
		for _, smp := range e.Samples {
			if !d.blobExists(smp.ImageRef) {
				t.Fatalf("the sweep deleted a held blob %s", smp.ImageRef)
			}
		}
	}
}

// mustOpenApp opens the data directory as the commands do (its keys, its
// blobs); the caller closes it.
func mustOpenApp(t *testing.T, dir string) *App {
	t.Helper()
	app, err := OpenApp(context.Background(), Config{Data: dir, Existing: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return app
}
