package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
	"github.com/jackc/pgx/v5"
)

// largeStoreEncounters is how many encounters the start-up test stores:
// the figure for start-up to ready in ≤ 2 s.
const largeStoreEncounters = 100_000

// MustFill creates a fresh schema holding n encounters of samples samples
// each (at most 13: ten fingers, two irises, a face) at three sites, one
// minute apart from 2025-01-01, straight in SQL (one transaction, not n
// audited ones: this builds a large store fast, it does not test writing),
// their biographics and offences sealed under MustTestKEK's keys and their
// name and document tokens written as CreateEncounter writes them. It
// returns the schema's DSN.
func MustFill(tb testing.TB, n, samples int) string {
	tb.Helper()
	dsn := MustSchema(tb)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	ring := MustUseKeys(tb, s)
	for _, code := range []string{"MX-TAP", "MX-TIJ", "GT-ESC"} {
		storetest.MustCreateSite(tb, s, code)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	start := storetest.Date(2025, 1, 1, 0)
	steps := []string{
		`INSERT INTO subjects (id, created_at) SELECT 'sub_' || lpad(i::text, 26, '0'), $2::timestamptz
			FROM generate_series(0, $1::int - 1) i`,
		`INSERT INTO samples (id, encounter_id, ordinal, modality, position, impression, eye, image_ref, format,
				width, height, ppi, device, quality)
			SELECT 'smp_' || lpad(i::text, 22, '0') || lpad(j::text, 4, '0'), 'enc_' || lpad(i::text, 26, '0'), j,
				CASE WHEN j < 10 THEN 'finger' WHEN j < 12 THEN 'iris' ELSE 'face' END,
				CASE WHEN j < 10 THEN j + 1 ELSE 0 END, CASE WHEN j < 10 THEN 'rolled' ELSE '' END,
				CASE j WHEN 10 THEN 'right' WHEN 11 THEN 'left' ELSE '' END,
				lpad(to_hex(i * 13 + j), 64, '0'), 'png', 500, 500, 500, 'Test scanner', 60
			FROM generate_series(0, $1::int - 1) i, generate_series(0, $2::int - 1) j`,
		// The counts trigger may have been skipped with the foreign keys:
		// rebuild the counts as migration 0004 does.
		`DELETE FROM encounter_counts`,
		`INSERT INTO encounter_counts (site_code, day, nationality, n)
			SELECT site_code, encounter_day(captured_at), nationality, count(*) FROM encounters GROUP BY 1, 2, 3`,
	}
	// Skip the foreign key triggers, row by row the slowest part of the
	// fill, when allowed (a superuser, as on the test server): the rows are
	// consistent by construction.
	conn.Exec(ctx, `SET session_replication_role = replica`)
	tx, err := conn.Begin(ctx)
	if err != nil {
		tb.Fatalf("begin: %v", err)
	}
	if _, err := tx.Exec(ctx, steps[0], n, start); err != nil {
		tb.Fatalf("fill: %v", err)
	}
	// Encounters sealed in Go, and their tokens, copied in.
	sites := []string{"MX-TAP", "MX-TIJ", "GT-ESC"}
	nationalities := []string{"GTM", "HND", "SLV", ""}
	var encounters, words, documents [][]any
	for i := range n {
		id := fmt.Sprintf("enc_%026d", i)
		given, family, number := fmt.Sprintf("Given%d", i%300), fmt.Sprintf("Family%d", i%2000), fmt.Sprintf("P%08d", i)
		bio := fmt.Sprintf(`{"names":[{"given":%q,"family":%q}],"birth_date":{"year":1990},"sex":"U","documents":[{"type":"passport","number":%q}]}`, given, family, number)
		sealed, err := ring.Seal([]byte("encounter/"+id+"/biographics"), []byte(bio))
		if err != nil {
			tb.Fatal(err)
		}
		offence, _ := ring.Seal([]byte("encounter/"+id+"/history_offence"), nil)
		status, _ := ring.Seal([]byte("encounter/"+id+"/history_status"), []byte("none"))
		at := start.Add(time.Duration(i) * time.Minute)
		encounters = append(encounters, []any{id, fmt.Sprintf("sub_%026d", i), sites[i%3], at, "usr_00000000000000000000000OFF",
			"detention", status, offence, "migration-enforcement", nationalities[i%4], sealed, "", at})
		for _, w := range []string{strings.ToLower(given), strings.ToLower(family)} {
			for l := 1; l <= len(w); l++ {
				words = append(words, []any{id, 0, ring.Token("name", w[:l])})
			}
		}
		documents = append(documents, []any{id, ring.Token("document", number)})
	}
	for _, c := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"encounters", []string{"id", "subject_id", "site_code", "captured_at", "officer", "reason", "history_status",
			"history_offence", "purpose", "nationality", "biographics", "original_ref", "created_at"}, encounters},
		{"encounter_name_words", []string{"encounter_id", "name_no", "word"}, words},
		{"encounter_documents", []string{"encounter_id", "number"}, documents},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
			tb.Fatalf("fill %s: %v", c.table, err)
		}
	}
	if _, err := tx.Exec(ctx, steps[1], n, samples); err != nil {
		tb.Fatalf("fill: %v", err)
	}
	for _, step := range steps[2:] {
		if _, err := tx.Exec(ctx, step); err != nil {
			tb.Fatalf("fill: %v", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatalf("commit: %v", err)
	}
	return dsn
}

// MustVacuum does what autovacuum would do on a live server after a fill:
// statistics for the planner and the visibility map for index-only scans.
func MustVacuum(tb testing.TB, dsn string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		tb.Fatalf("vacuum: %v", err)
	}
}

// openAndPing returns how long Open and Ping take: start-up to ready.
func openAndPing(tb testing.TB, dsn string) (*postgres.Store, time.Duration) {
	tb.Helper()
	start := time.Now()
	s, err := postgres.Open(context.Background(), dsn)
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
	dsn := MustFill(t, largeStoreEncounters, 1)
	s, took := openAndPing(t, dsn)
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
	storetest.MustCreateEncounter(t, s, storetest.Encounter("MX-TAP", storetest.Date(2026, 1, 1, 0)))
}

func BenchmarkOpen100k(b *testing.B) {
	dsn := MustFill(b, largeStoreEncounters, 13)
	b.ResetTimer()
	for b.Loop() {
		s, _ := openAndPing(b, dsn)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

func BenchmarkQueries100k(b *testing.B) {
	dsn := MustFill(b, largeStoreEncounters, 13)
	MustVacuum(b, dsn)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	MustUseKeys(b, s)
	defer s.Close()
	ctx := context.Background()
	month := huella.EncounterFilter{From: storetest.Date(2025, 2, 1, 0), To: storetest.Date(2025, 3, 1, 0)}
	oneSite := month
	oneSite.Sites = []string{"MX-TAP"}
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"ListBySiteAndMonth", func() error { _, err := s.ListEncounters(ctx, oneSite); return err }},
		{"ListNewest", func() error { _, err := s.ListEncounters(ctx, huella.EncounterFilter{}); return err }},
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
