package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// largeStoreEncounters is how many encounters the start-up test stores:
// the figure for start-up to ready in ≤ 2 s.
const largeStoreEncounters = 100_000

// MustFill stores n encounters of samples samples each (at most 13: ten
// fingers, two irises, a face) at three sites, one
// minute apart from 2025-01-01, straight in SQL (one transaction, not n
// audited ones: this builds a large store fast, it does not test writing),
// their biographics and offences sealed under MustTestKEK's keys as
// CreateEncounter seals them, and with withIndex their name and document
// tokens too. It returns the database path, closed.
func MustFill(tb testing.TB, n, samples int, withIndex bool) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "huella.db")
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	ring := MustUseKeys(tb, s)
	for _, code := range []string{"MX-TAP", "MX-TIJ", "GT-ESC"} {
		storetest.MustCreateSite(tb, s, code)
	}
	if err := s.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	// Without a journal and without syncs: a crash here loses only a fixture.
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	defer db.Close()
	start := storetest.Date(2025, 1, 1, 0).UnixMicro()
	const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) `
	steps := []string{
		series + `INSERT INTO subjects (id, created_at) SELECT printf('sub_%026d', i), ?2 FROM n`,
		series + `, k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < ?3)
			INSERT INTO samples (id, encounter_id, ordinal, modality, position, impression, eye, image_ref, format,
				width, height, ppi, device, quality)
			SELECT printf('smp_%022d%04d', i, j), printf('enc_%026d', i), j,
				CASE WHEN j < 10 THEN 'finger' WHEN j < 12 THEN 'iris' ELSE 'face' END,
				CASE WHEN j < 10 THEN j + 1 ELSE 0 END, CASE WHEN j < 10 THEN 'rolled' ELSE '' END,
				CASE j WHEN 10 THEN 'right' WHEN 11 THEN 'left' ELSE '' END,
				printf('%064x', i * 13 + j), 'png', 500, 500, 500, 'Test scanner', 60
			FROM n, k`,
	}
	tx, err := db.Begin()
	if err != nil {
		tb.Fatalf("begin: %v", err)
	}
	// Encounters sealed in Go (the samples' foreign key needs them first).
	insert, err := tx.Prepare(`INSERT INTO encounters (id, subject_id, site_code, captured_at, officer, reason, history_status,
		history_offence, purpose, nationality, biographics, original_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatalf("fill: %v", err)
	}
	word, _ := tx.Prepare(`INSERT INTO encounter_name_words (encounter_id, name_no, word) VALUES (?, 0, ?)`)
	document, _ := tx.Prepare(`INSERT INTO encounter_documents (encounter_id, number) VALUES (?, ?)`)
	sites := []string{"MX-TAP", "MX-TIJ", "GT-ESC"}
	nationalities := []string{"GTM", "HND", "SLV", ""}
	if _, err := tx.Exec(steps[0], n, start, samples); err != nil {
		tb.Fatalf("fill: %v", err)
	}
	for i := range n {
		id := fmt.Sprintf("enc_%026d", i)
		given, family, number := fmt.Sprintf("Given%d", i%300), fmt.Sprintf("Family%d", i%2000), fmt.Sprintf("P%08d", i)
		bio := fmt.Sprintf(`{"names":[{"given":%q,"family":%q}],"birth_date":{"year":1990},"sex":"U","documents":[{"type":"passport","number":%q}]}`, given, family, number)
		sealed, err := ring.Seal([]byte("encounter/"+id+"/biographics"), []byte(bio))
		if err != nil {
			tb.Fatal(err)
		}
		offence, _ := ring.Seal([]byte("encounter/"+id+"/history_offence"), nil)
		at := start + int64(i)*60_000_000
		if _, err := insert.Exec(id, fmt.Sprintf("sub_%026d", i), sites[i%3], at, "usr_00000000000000000000000OFF", "detention", "none",
			offence, "migration-enforcement", nationalities[i%4], sealed, "", at); err != nil {
			tb.Fatalf("fill: %v", err)
		}
		if !withIndex {
			continue
		}
		// The name search index, as CreateEncounter writes it: every
		// prefix of every word.
		for _, w := range []string{strings.ToLower(given), strings.ToLower(family)} {
			for l := 1; l <= len(w); l++ {
				if _, err := word.Exec(id, ring.Token("name", w[:l])); err != nil {
					tb.Fatalf("fill: %v", err)
				}
			}
		}
		if _, err := document.Exec(id, ring.Token("document", number)); err != nil {
			tb.Fatalf("fill: %v", err)
		}
	}
	for _, step := range steps[1:] {
		if _, err := tx.Exec(step, n, start, samples); err != nil {
			tb.Fatalf("fill: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatalf("commit: %v", err)
	}
	if _, err := db.Exec(`PRAGMA journal_mode = WAL`); err != nil {
		tb.Fatalf("fill: %v", err)
	}
	return path
}

// openAndPing returns how long Open, unwrapping the keys and Ping take:
// start-up to ready.
func openAndPing(tb testing.TB, path string) (*sqlite.Store, time.Duration) {
	tb.Helper()
	start := time.Now()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	MustUseKeys(tb, s)
	if err := s.Ping(context.Background()); err != nil {
		tb.Fatalf("Ping: %v", err)
	}
	return s, time.Since(start)
}

// Start-up must not grow with the records: with 100,000 encounters stored,
// Open and Ping take at most 2 s (the figure; in practice a few ms).
func TestOpenLargeStore(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store of 100,000 encounters; skipped with -short")
	}
	t.Parallel()
	// One sample each keeps the test quick; BenchmarkOpen100k stores 13.
	path := MustFill(t, largeStoreEncounters, 1, false)
	s, took := openAndPing(t, path)
	defer s.Close()
	t.Logf("Open+Ping with %d encounters: %v", largeStoreEncounters, took)
	if took > 2*time.Second {
		t.Errorf("Open+Ping took %v, want at most 2s", took)
	}
	stats, err := s.EncounterStats(context.Background(), huella.EncounterFilter{})
	if err != nil {
		t.Fatalf("EncounterStats: %v", err)
	}
	if stats.Total != largeStoreEncounters {
		t.Errorf("stats count %d encounters, want %d", stats.Total, largeStoreEncounters)
	}
	// A store filled outside the API still takes new encounters.
	storetest.MustCreateEncounter(t, s, storetest.Encounter("MX-TAP", storetest.Date(2026, 1, 1, 0)))
}

func BenchmarkOpen100k(b *testing.B) {
	path := MustFill(b, largeStoreEncounters, 13, false)
	b.ResetTimer()
	for b.Loop() {
		s, _ := openAndPing(b, path)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

func BenchmarkQueries100k(b *testing.B) {
	path := MustFill(b, largeStoreEncounters, 13, true)
	s, err := sqlite.Open(path)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	MustUseKeys(b, s)
	defer s.Close()
	ctx := context.Background()
	month := huella.EncounterFilter{From: storetest.Date(2025, 2, 1, 0), To: storetest.Date(2025, 3, 1, 0)}
	oneSite := month
	oneSite.Sites = []string{"MX-TAP"}
	// The encounter 50,000th from the newest (MustFill: one a minute).
	deep := largeStoreEncounters - 50_000
	deepPage := &huella.PageKey{At: storetest.Date(2025, 1, 1, 0).Add(time.Duration(deep) * time.Minute), ID: fmt.Sprintf("enc_%026d", deep)}
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"ListBySiteAndMonth", func() error { _, err := s.ListEncounters(ctx, oneSite); return err }},
		{"ListNewest", func() error { _, err := s.ListEncounters(ctx, huella.EncounterFilter{}); return err }},
		// The 501st page of 100, by offset and by the API's cursor.
		{"PageDeepOffset", func() error { return search(ctx, s, huella.EncounterFilter{Offset: 50_000}, 100) }},
		{"PageDeepCursor", func() error { return search(ctx, s, huella.EncounterFilter{After: deepPage}, 100) }},
		{"StatsAll", func() error { _, err := s.EncounterStats(ctx, huella.EncounterFilter{}); return err }},
		{"StatsBySiteAndMonth", func() error { _, err := s.EncounterStats(ctx, oneSite); return err }},
		{"SearchTwoNames", func() error { return search(ctx, s, huella.EncounterFilter{Name: "given34 family1234"}, 17) }},
		{"SearchCommonName", func() error { return search(ctx, s, huella.EncounterFilter{Name: "given1"}, 100) }},
		{"SearchPrefix", func() error { return search(ctx, s, huella.EncounterFilter{Name: "fami"}, 100) }},
		{"SearchDocument", func() error { return search(ctx, s, huella.EncounterFilter{Document: "p-00054321"}, 1) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// search lists the filter's encounters and checks how many were found.
func search(ctx context.Context, s huella.Store, f huella.EncounterFilter, want int) error {
	list, err := s.ListEncounters(ctx, f)
	if err == nil && len(list) != want {
		err = fmt.Errorf("%+v: %d encounters, want %d", f, len(list), want)
	}
	return err
}

// BenchmarkReencrypt100k rotates the data key of a store of 100,000
// encounters and moves every sealed field to the new key, 500 rows per
// transaction: the rate of "huella keys rotate" on the records.
func BenchmarkReencrypt100k(b *testing.B) {
	path := MustFill(b, largeStoreEncounters, 1, false)
	s, err := sqlite.Open(path)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ring := MustUseKeys(b, s)
	ctx := context.Background()
	var rows int
	var bytes int64
	b.ResetTimer()
	for b.Loop() {
		if _, err := ring.Rotate(ctx); err != nil {
			b.Fatal(err)
		}
		var last huella.ReencryptProgress
		if err := s.Reencrypt(ctx, 500, func(p huella.ReencryptProgress) { last = p }); err != nil {
			b.Fatal(err)
		}
		if last.Rewritten != largeStoreEncounters {
			b.Fatalf("rewrote %d rows, want %d", last.Rewritten, largeStoreEncounters)
		}
		rows += last.Rewritten
		bytes += last.Bytes
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
}
