package tattoo_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

func TestTerms(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Calaveras", "calavera"},
		{"corazón", "CORAZON"},
		{"roses", "rose"},
		{"flores", "flor"},
		{"butterflies", "butterfly"},
		{"calavera", "skull"},
		{"águila", "eagle"},
		{"crosses", "cross"},
	}
	for _, tc := range tests {
		t.Run(tc.a, func(t *testing.T) {
			a, b := tattoo.Terms(tc.a), tattoo.Terms(tc.b)
			if !slices.Equal(a, b) {
				t.Errorf("Terms(%q) = %v, Terms(%q) = %v, want equal", tc.a, a, tc.b, b)
			}
		})
	}
	if got := tattoo.Terms("la rosa de los vientos"); len(got) != 2 {
		t.Errorf("got %v, want stop words dropped", got)
	}
}

func smtIndex(tb testing.TB) *tattoo.SMTIndex {
	tb.Helper()
	x := tattoo.NewSMTIndex()
	records := []tattoo.SMTRecord{
		{ID: "r1", Subject: "s1", Type: tattoo.Tattoo, NCICCode: "TAT R ARM", Class: "HUMAN", Subclass: "MFACE",
			Colors: []string{"BLACK"}, Description: "Calavera con rosas en el antebrazo derecho"},
		{ID: "r2", Subject: "s2", Type: tattoo.Tattoo, NCICCode: "TAT L ARM", Class: "ANIMAL", Subclass: "CAT",
			Colors: []string{"BLACK", "RED"}, Description: "Tiger head with red eyes"},
		{ID: "r3", Subject: "s3", Type: tattoo.Scar, NCICCode: "SC R HND", Description: "Cicatriz de cuchillo"},
		{ID: "r4", Subject: "s4", Type: tattoo.Tattoo, NCICCode: "TAT CHEST", Class: "PLANT",
			Colors: []string{"RED", "GREEN"}, Description: "Two roses and a skull"},
	}
	for _, r := range records {
		if err := x.Add(r); err != nil {
			tb.Fatal(err)
		}
	}
	return x
}

func hitIDs(hits []tattoo.SMTHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Record.ID)
	}
	slices.Sort(out)
	return out
}

func TestSMTIndexSearch(t *testing.T) {
	x := smtIndex(t)
	tests := []struct {
		name string
		q    tattoo.SMTQuery
		want []string
	}{
		{"Type", tattoo.SMTQuery{Type: tattoo.Scar}, []string{"r3"}},
		{"CodeExact", tattoo.SMTQuery{NCICCode: "tat  r arm"}, []string{"r1"}},
		{"CodePrefix", tattoo.SMTQuery{NCICCode: "TAT*"}, []string{"r1", "r2", "r4"}},
		{"Class", tattoo.SMTQuery{Class: "animal", Subclass: "CAT"}, []string{"r2"}},
		{"Colors", tattoo.SMTQuery{Colors: []string{"RED"}}, []string{"r2", "r4"}},
		{"TextSpanishFindsEnglish", tattoo.SMTQuery{Text: "calaveras"}, []string{"r1", "r4"}},
		{"TextEnglishFindsSpanish", tattoo.SMTQuery{Text: "knife scar"}, []string{"r3"}},
		{"TextAccents", tattoo.SMTQuery{Text: "TIGRÉ"}, []string{"r2"}},
		{"Combined", tattoo.SMTQuery{Type: tattoo.Tattoo, Colors: []string{"GREEN"}, Text: "rosa"}, []string{"r4"}},
		{"None", tattoo.SMTQuery{Text: "dragon"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hitIDs(x.Search(tc.q)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("Ranking", func(t *testing.T) {
		hits := x.Search(tattoo.SMTQuery{Text: "skull roses"})
		if len(hits) != 2 || hits[0].Score < hits[1].Score {
			t.Errorf("got %v, want two hits best first", hits)
		}
	})
}

func TestSMTRecordValidate(t *testing.T) {
	tests := []struct {
		name string
		r    tattoo.SMTRecord
		want error
	}{
		{"OK", tattoo.SMTRecord{ID: "a", Type: tattoo.Mark}, nil},
		{"ErrSMTIDRequired", tattoo.SMTRecord{Type: tattoo.Mark}, tattoo.ErrSMTIDRequired},
		{"ErrSMTType", tattoo.SMTRecord{ID: "a", Type: "tatoo"}, tattoo.ErrSMTType},
		{"ErrSMTClass", tattoo.SMTRecord{ID: "a", Type: tattoo.Tattoo, Class: "CARS"}, tattoo.ErrSMTClass},
		{"ErrSMTColor", tattoo.SMTRecord{ID: "a", Type: tattoo.Tattoo, Colors: []string{"PINK"}}, tattoo.ErrSMTColor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSearchCombined(t *testing.T) {
	images := bivtatt(t)
	gallery := tattoo.NewGallery(nil)
	x := tattoo.NewSMTIndex()
	for _, g := range []struct{ id, code string }{{"11_2", "TAT R ARM"}, {"11_4", "TAT L ARM"}, {"9_1", "TAT R ARM"}} {
		if err := gallery.Add(g.id, images[g.id].Subject, MustExtract(t, images, g.id)); err != nil {
			t.Fatal(err)
		}
		if err := x.Add(tattoo.SMTRecord{ID: g.id, Subject: images[g.id].Subject, Type: tattoo.Tattoo, NCICCode: g.code}); err != nil {
			t.Fatal(err)
		}
	}
	probe := MustExtract(t, images, "11_3")
	got := tattoo.SearchCombined(gallery, x, probe, tattoo.SMTQuery{NCICCode: "TAT R ARM"}, tattoo.SearchOptions{Limit: 5})
	if len(got) == 0 || got[0].ID != "11_2" {
		t.Fatalf("got %v, want 11_2 first", ids(got))
	}
	for _, c := range got {
		if c.ID == "11_4" {
			t.Error("a left-arm record was returned for a right-arm query")
		}
	}
}
