package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

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
		for _, v := range storetest.FindPlanted(b) {
			found = append(found, filepath.Base(p)+": "+v)
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
	ring := MustUseKeys(t, s)
	// While open, the WAL holds the latest pages: both files are searched.
	storetest.RunAtRest(t, s, ring, MustTestKEK(t), func(t *testing.T) []byte {
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
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
		keysBefore, err := s.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := keyring.NewLocalKEK(bytes.Repeat([]byte{7}, keyring.KeySize))
		if _, err := keyring.Open(ctx, other, s, keyring.Options{}); err == nil || !strings.Contains(err.Error(), "wrong --key-file") {
			t.Fatalf("keyring.Open with another KEK: %v, want a clear error", err)
		}
		keys, err := s.ListKeys(ctx)
		if err != nil || len(keys) != len(keysBefore) {
			t.Fatalf("after a wrong KEK, %d keys (%v), want the %d there were", len(keys), err, len(keysBefore))
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
		ids = append(ids, storetest.MustCreateEncounter(t, s, storetest.PlantedEncounter(storetest.Date(2026, 1, 2, i))).ID)
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
	if u := usage(); u[""] != 7*(3+2) {
		t.Fatalf("before: usage %v, want 35 plain fields (7 × biographics, offence, status, 2 templates)", u)
	}
	// Retention holds the declared convictions whether the status is
	// still plain or sealed (it opens it: no query filters on it).
	held := func(when string) {
		t.Helper()
		x, err := s.ExpiredSubjects(ctx, storetest.Date(2030, 1, 1, 0))
		if err != nil || x.HeldConviction != len(ids) || len(x.Subjects) != 0 {
			t.Errorf("%s: expired subjects %+v, %v; want all %d held by their conviction", when, x, err, len(ids))
		}
	}
	held("plain")
	// Nationalities: codes before, tokens after (in the encounters and the
	// counts the triggers keep), counted by code either way.
	plainNationalities := func() int {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT nationality FROM encounters UNION ALL SELECT nationality FROM encounter_counts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var v string
			rows.Scan(&v)
			if huella.IsCountryCode(v) {
				n++
			}
		}
		return n
	}
	nationality := storetest.PlantedEncounter(storetest.Date(2026, 1, 2, 0)).Biographics.Nationality
	byNationality := func(when string) {
		t.Helper()
		st, err := s.EncounterStats(ctx, huella.EncounterFilter{})
		if err != nil || st.ByNationality[nationality] != len(ids) {
			t.Errorf("%s: counts by nationality %v, %v; want %d under %s", when, st.ByNationality, err, len(ids), nationality)
		}
	}
	if n := plainNationalities(); n == 0 {
		t.Fatal("the plain store holds no nationality codes: the check below proves nothing")
	}
	byNationality("plain")
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
		if u := usage(); u[first] != 35 || len(u) != 1 {
			t.Errorf("after: usage %v, want 35 fields under %s", u, first)
		}
		// Re-indexed: found by token.
		if list, err := s.ListEncounters(ctx, huella.EncounterFilter{Name: "qwerty zyx"}); err != nil || len(list) != 7 {
			t.Errorf("name search after re-encryption: %d, %v; want 7", len(list), err)
		}
		if list, err := s.ListEncounters(ctx, huella.EncounterFilter{Document: storetest.PlantedDocument}); err != nil || len(list) != 7 {
			t.Errorf("document search after re-encryption: %d, %v; want 7", len(list), err)
		}
		held("sealed")
		if n := plainNationalities(); n != 0 {
			t.Errorf("after re-encryption, %d nationality codes in clear", n)
		}
		byNationality("tokens")
	})
	t.Run("AfterRotate", func(t *testing.T) {
		second, err := ring.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A write after the rotation seals with the new key.
		ids = append(ids, storetest.MustCreateEncounter(t, s, storetest.PlantedEncounter(storetest.Date(2026, 1, 3, 0))).ID)
		if u := usage(); u[first] != 35 || u[second] != 5 {
			t.Fatalf("after rotate: usage %v", u)
		}
		reencrypt()
		if u := usage(); u[second] != 40 || len(u) != 1 {
			t.Fatalf("after re-encryption: usage %v, want 40 fields under %s", u, second)
		}
		if err := ring.Retire(ctx, first); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			e, err := s.FindEncounter(ctx, id)
			if err != nil || e.Biographics.Names[0].Family != storetest.PlantedFamily {
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
