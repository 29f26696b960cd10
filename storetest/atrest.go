package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/keyring"
)

// Planted values of the encryption-at-rest tests: distinctive enough that
// finding them in a database file or dump can only mean they were stored in
// the clear.
const (
	PlantedGiven    = "Zyxwvutsrqa"
	PlantedFamily   = "Qwertyplonkus"
	PlantedDocument = "ZX-4477889911"
	PlantedOffence  = "Plankton smuggling on the Usumacinta"
)

// PlantedTemplate is the planted template data.
var PlantedTemplate = bytes.Repeat([]byte("TPL-MAGIC-7c1e"), 8)

// PlantedEncounter returns an encounter at MX-TAP holding the planted
// values, with two templates.
func PlantedEncounter(at time.Time) *huella.Encounter {
	e := Encounter("MX-TAP", at)
	e.Biographics.Names = []huella.Name{{Given: PlantedGiven, Family: PlantedFamily}}
	e.Biographics.Documents = []huella.Document{{Type: "passport", Number: PlantedDocument, Country: "GTM"}}
	e.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: PlantedOffence}
	for _, smp := range e.Samples[:2] {
		smp.Template = Template(smp, "x")
		smp.Template.Data = PlantedTemplate
	}
	return e
}

// FindPlanted returns the planted values b holds, in any of the forms a
// store could write them (as given, folded, as a document key).
func FindPlanted(b []byte) []string {
	var found []string
	for _, s := range []string{PlantedGiven, PlantedFamily, strings.ToLower(PlantedGiven), strings.ToLower(PlantedFamily),
		PlantedDocument, huella.DocumentKey(PlantedDocument), PlantedOffence, string(PlantedTemplate[:14]),
		string(huella.HistoryConviction)} {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// KeyedStore is a store that seals its fields with keys it keeps.
type KeyedStore interface {
	IdentityStore
	huella.KeyStore
	huella.Reencrypter
}

// RunAtRest tests a store whose fields the keyring seals: what is stored
// reads back and is found by name and document, dump (the database's
// files, or a dump of it) holds none of the planted values, and records
// move to a new key and the old key retires, and the keys move to a new
// KEK. kek is the KEK ring was opened with.
func RunAtRest(t *testing.T, s KeyedStore, ring *keyring.Keyring, kek keyring.KEK, dump func(t *testing.T) []byte) {
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	e := MustCreateEncounter(t, s, PlantedEncounter(Date(2026, 1, 2, 3)))
	w := &huella.Watchlist{Name: "Wanted", Owner: "US-CBP", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := s.CreateWatchlist(ctx, w); err != nil {
		t.Fatal(err)
	}
	we := PlantedEncounter(time.Now())
	if err := s.CreateWatchEntry(ctx, &huella.WatchEntry{WatchlistID: w.ID, Reference: "CASE-1", Samples: we.Samples[:2],
		Biographics: we.Biographics}); err != nil {
		t.Fatal(err)
	}
	readBack := func(t *testing.T) {
		t.Helper()
		got, err := s.FindEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Biographics.Names[0].Given != PlantedGiven || got.CriminalHistory.Offence != PlantedOffence {
			t.Errorf("read back %+v %+v", got.Biographics.Names, got.CriminalHistory)
		}
		tpl, err := s.FindTemplates(ctx, []string{e.Samples[0].ID, we.Samples[0].ID})
		if err != nil || len(tpl) != 2 || !bytes.Equal(tpl[0].Data, PlantedTemplate) || !bytes.Equal(tpl[1].Data, PlantedTemplate) {
			t.Fatalf("FindTemplates = %d templates, %v", len(tpl), err)
		}
		planted := map[string]bool{e.Samples[0].ID: true, e.Samples[1].ID: true, we.Samples[0].ID: true, we.Samples[1].ID: true}
		for _, kind := range []huella.GalleryKind{huella.GallerySubjects, huella.GalleryWatchlists} {
			n := 0
			if err := s.ForEachTemplate(ctx, kind, func(t *huella.Template) error {
				if planted[t.SampleID] && bytes.Equal(t.Data, PlantedTemplate) {
					n++
				}
				return nil
			}); err != nil || n != 2 {
				t.Fatalf("ForEachTemplate(%s) = %d planted templates, %v; want 2", kind, n, err)
			}
		}
		entries, err := s.ListWatchEntries(ctx, w.ID)
		if err != nil || len(entries) != 1 || entries[0].Biographics.Names[0].Family != PlantedFamily {
			t.Fatalf("ListWatchEntries = %d, %v", len(entries), err)
		}
	}
	t.Run("ReadBack", readBack)
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
	t.Run("NothingInTheDump", func(t *testing.T) {
		if found := FindPlanted(dump(t)); len(found) > 0 {
			t.Errorf("the database holds planted values: %v", found)
		}
	})
	t.Run("RotateReencryptRetire", func(t *testing.T) {
		first := ring.ActiveKeyID()
		second, err := ring.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		later := MustCreateEncounter(t, s, PlantedEncounter(Date(2026, 1, 3, 0)))
		u, err := s.KeyUsage(ctx)
		if err != nil || u[first] != 8 || u[second] != 5 {
			t.Fatalf("after rotating: usage %v, %v; want 8 fields under the old key, 5 under the new", u, err)
		}
		var last huella.ReencryptProgress
		if err := s.Reencrypt(ctx, 2, func(p huella.ReencryptProgress) { last = p }); err != nil {
			t.Fatal(err)
		}
		if last.Rewritten != 6 || last.Bytes == 0 {
			t.Errorf("rewrote %d rows (%d bytes), want 6 (an encounter, 2 templates, a watch entry, 2 watch samples)", last.Rewritten, last.Bytes)
		}
		u, err = s.KeyUsage(ctx)
		if err != nil || u[second] != 13 || len(u) != 1 {
			t.Fatalf("after re-encrypting: usage %v, %v; want 13 fields under %s", u, err, second)
		}
		if err := ring.Retire(ctx, first); err != nil {
			t.Fatal(err)
		}
		readBack(t)
		if _, err := s.FindEncounter(ctx, later.ID); err != nil {
			t.Fatal(err)
		}
		if found := FindPlanted(dump(t)); len(found) > 0 {
			t.Errorf("after re-encryption, the database holds planted values: %v", found)
		}
	})
	t.Run("Rewrap", func(t *testing.T) {
		old, err := keyring.Open(ctx, kek, s, keyring.Options{})
		if err != nil {
			t.Fatalf("the KEK before rewrapping: %v", err)
		}
		newKEK, err := keyring.NewLocalKEK(bytes.Repeat([]byte{0x5a}, keyring.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Rewrap(ctx, newKEK); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.Open(ctx, kek, s, keyring.Options{}); err == nil {
			t.Error("the old KEK still opens the keys")
		}
		fresh, err := keyring.Open(ctx, newKEK, s, keyring.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if fresh.ActiveKeyID() != old.ActiveKeyID() || !bytes.Equal(fresh.BlobKey(), old.BlobKey()) {
			t.Error("rewrapping changed the keys")
		}
		readBack(t)
	})
}
