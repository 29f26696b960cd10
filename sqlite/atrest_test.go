package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// Planted values: distinctive enough that finding them in a file can only
// mean they were stored in the clear.
const (
	plantedGiven    = "Zyxwvutsrqa"
	plantedFamily   = "Qwertyplonkus"
	plantedDocument = "ZX-4477889911"
	plantedOffence  = "Plankton smuggling on the Usumacinta"
)

var plantedTemplate = bytes.Repeat([]byte("TPL-MAGIC-7c1e"), 8)

// plantedEncounter returns an encounter holding the planted values, with
// templates.
func plantedEncounter(at time.Time) *huella.Encounter {
	e := storetest.Encounter("MX-TAP", at)
	e.Biographics.Names = []huella.Name{{Given: plantedGiven, Family: plantedFamily}}
	e.Biographics.Documents = []huella.Document{{Type: "passport", Number: plantedDocument, Country: "GTM"}}
	e.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: plantedOffence}
	for _, smp := range e.Samples[:2] {
		smp.Template = storetest.Template(smp, "x")
		smp.Template.Data = plantedTemplate
	}
	return e
}

// plantedBytes are every form the planted values could be stored in.
func plantedBytes() [][]byte {
	var out [][]byte
	for _, s := range []string{plantedGiven, plantedFamily, strings.ToLower(plantedGiven), strings.ToLower(plantedFamily),
		plantedDocument, huella.DocumentKey(plantedDocument), plantedOffence} {
		out = append(out, []byte(s))
	}
	return append(out, plantedTemplate[:14])
}

// grepFiles returns which planted values the files hold.
func grepFiles(tb testing.TB, paths ...string) []string {
	tb.Helper()
	var found []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			tb.Fatal(err)
		}
		for _, v := range plantedBytes() {
			if bytes.Contains(b, v) {
				found = append(found, filepath.Base(p)+": "+string(v))
			}
		}
	}
	return found
}

func TestAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "huella.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	MustUseKeys(t, s)
	storetest.MustCreateSite(t, s, "MX-TAP")
	e := storetest.MustCreateEncounter(t, s, plantedEncounter(storetest.Date(2026, 1, 2, 3)))
	w := &huella.Watchlist{Name: "Wanted", Owner: "US-CBP", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := s.CreateWatchlist(ctx, w); err != nil {
		t.Fatal(err)
	}
	we := plantedEncounter(time.Now())
	if err := s.CreateWatchEntry(ctx, &huella.WatchEntry{WatchlistID: w.ID, Reference: "CASE-1", Samples: we.Samples[:2],
		Biographics: we.Biographics}); err != nil {
		t.Fatal(err)
	}

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.FindEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Biographics.Names[0].Given != plantedGiven || got.CriminalHistory.Offence != plantedOffence {
			t.Errorf("read back %+v %+v", got.Biographics.Names, got.CriminalHistory)
		}
		tpl, err := s.FindTemplates(ctx, []string{e.Samples[0].ID, we.Samples[0].ID})
		if err != nil || len(tpl) != 2 || !bytes.Equal(tpl[0].Data, plantedTemplate) || !bytes.Equal(tpl[1].Data, plantedTemplate) {
			t.Fatalf("FindTemplates = %d templates, %v", len(tpl), err)
		}
		n := 0
		if err := s.ForEachTemplate(ctx, huella.GalleryWatchlists, func(t *huella.Template) error {
			n++
			if !bytes.Equal(t.Data, plantedTemplate) {
				return huella.Errorf(huella.EINTERNAL, "template data differs")
			}
			return nil
		}); err != nil || n != 2 {
			t.Fatalf("ForEachTemplate(watchlists) = %d, %v", n, err)
		}
	})
	t.Run("Search", func(t *testing.T) {
		for _, f := range []huella.EncounterFilter{
			{Name: "zyxw"}, {Name: "Qwertyplonkus zyx"}, {Name: "QWERTY"}, {Document: "zx 4477889911"},
		} {
			list, err := s.ListEncounters(ctx, f)
			if err != nil || len(list) != 1 || list[0].ID != e.ID {
				t.Errorf("ListEncounters(%+v) = %d encounters, %v; want the planted one", f, len(list), err)
			}
		}
		for _, f := range []huella.EncounterFilter{{Name: "zyxwq"}, {Name: "plonkus"}, {Document: "ZX447788991"}} {
			if list, err := s.ListEncounters(ctx, f); err != nil || len(list) != 0 {
				t.Errorf("ListEncounters(%+v) = %d encounters, %v; want none", f, len(list), err)
			}
		}
	})
	t.Run("NothingInTheFiles", func(t *testing.T) {
		// While open, the WAL holds the latest pages.
		if found := grepFiles(t, path, path+"-wal"); len(found) > 0 {
			t.Errorf("the database or its WAL holds planted values: %v", found)
		}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if found := grepFiles(t, path, path+"-wal"); len(found) > 0 {
		t.Errorf("after close, the database holds planted values: %v", found)
	}

	t.Run("ErrWrongKEK", func(t *testing.T) {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		before, _ := os.ReadFile(path)
		other, _ := keyring.NewLocalKEK(bytes.Repeat([]byte{7}, keyring.KeySize))
		if _, err := keyring.Open(ctx, other, s, keyring.Options{}); err == nil || !strings.Contains(err.Error(), "wrong --key-file") {
			t.Fatalf("keyring.Open with another KEK: %v, want a clear error", err)
		}
		keys, err := s.ListKeys(ctx)
		if err != nil || len(keys) != 3 {
			t.Fatalf("after a wrong KEK, %d keys (%v), want the 3 there were", len(keys), err)
		}
		s.Close()
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("a wrong KEK changed the database")
		}
	})
}

func TestReencrypt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "huella.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Records written before encryption at rest: in the clear.
	storetest.MustCreateSite(t, s, "MX-TAP")
	var ids []string
	for i := range 7 {
		ids = append(ids, storetest.MustCreateEncounter(t, s, plantedEncounter(storetest.Date(2026, 1, 2, i))).ID)
	}
	ring := MustUseKeys(t, s)
	first := ring.ActiveKeyID()
	usage := func() map[string]int {
		t.Helper()
		u, err := s.KeyUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := usage(); u[""] != 7*(2+2) {
		t.Fatalf("before: usage %v, want 28 plain fields (7 × biographics, offence, 2 templates)", u)
	}
	reencrypt := func() []huella.ReencryptProgress {
		t.Helper()
		var seen []huella.ReencryptProgress
		if err := s.Reencrypt(ctx, 3, func(p huella.ReencryptProgress) { seen = append(seen, p) }); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	t.Run("FromPlain", func(t *testing.T) {
		seen := reencrypt()
		if last := seen[len(seen)-1]; last.Rewritten != 7+14 {
			t.Errorf("rewrote %d rows, want 21 (7 encounters, 14 templates)", last.Rewritten)
		}
		if u := usage(); u[first] != 28 || len(u) != 1 {
			t.Errorf("after: usage %v, want 28 fields under %s", u, first)
		}
		// Re-indexed: found by token.
		if list, err := s.ListEncounters(ctx, huella.EncounterFilter{Name: "qwerty zyx"}); err != nil || len(list) != 7 {
			t.Errorf("name search after re-encryption: %d, %v; want 7", len(list), err)
		}
		if list, err := s.ListEncounters(ctx, huella.EncounterFilter{Document: plantedDocument}); err != nil || len(list) != 7 {
			t.Errorf("document search after re-encryption: %d, %v; want 7", len(list), err)
		}
	})
	t.Run("AfterRotate", func(t *testing.T) {
		second, err := ring.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A write after the rotation seals with the new key.
		ids = append(ids, storetest.MustCreateEncounter(t, s, plantedEncounter(storetest.Date(2026, 1, 3, 0))).ID)
		if u := usage(); u[first] != 28 || u[second] != 4 {
			t.Fatalf("after rotate: usage %v", u)
		}
		reencrypt()
		if u := usage(); u[second] != 32 || len(u) != 1 {
			t.Fatalf("after re-encryption: usage %v, want 32 fields under %s", u, second)
		}
		if err := ring.Retire(ctx, first); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			e, err := s.FindEncounter(ctx, id)
			if err != nil || e.Biographics.Names[0].Family != plantedFamily {
				t.Fatalf("FindEncounter(%s) after retiring the old key: %v", id, err)
			}
		}
		if seen := reencrypt(); seen[len(seen)-1].Rewritten != 0 {
			t.Errorf("a second pass rewrote %d rows, want 0", seen[len(seen)-1].Rewritten)
		}
	})
	s.Close()
	if found := grepFiles(t, path, path+"-wal"); len(found) > 0 {
		t.Errorf("after re-encryption, the database holds planted values: %v", found)
	}
}
