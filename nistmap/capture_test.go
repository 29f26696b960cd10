package nistmap_test

import (
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/nistmap"
)

// TestCaptureTime imports a transaction dated 1.005 DAT at awkward instants
// of the importing clock: the capture time is midday of its day when that
// has passed, never in the future, and the encounter validates at the
// instant of the import, whatever the hour or the year.
func TestCaptureTime(t *testing.T) {
	fixture, err := demo.Fixture("finger-105_1.png")
	if err != nil {
		t.Fatal(err)
	}
	gray, err := imgproc.DecodeGray(fixture)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := ansinist.WSQFingerprint(2, 1, gray, 500)
	if err != nil {
		t.Fatal(err)
	}
	transaction := func(t *testing.T, dat time.Time) []byte {
		t.Helper()
		tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: dat, Originator: "TEST"})
		tx.AddBiographics(ansinist.Biographics{Name: "PEREZ,ANA"}, nil)
		tx.AddFingerprint(fp)
		data, err := tx.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name     string
		dat, now string // the transaction's day, the importing clock
		want     string // captured_at
		note     string // part of the note on the date, if any
	}{
		{"TodayAt0030", "2026-12-07T00:00:00Z", "2026-12-07T00:30:00Z", "2026-12-07T00:30:00Z", ""},
		{"TodayAt1159", "2026-12-07T00:00:00Z", "2026-12-07T11:59:00Z", "2026-12-07T11:59:00Z", ""},
		{"TodayAt1200", "2026-12-07T00:00:00Z", "2026-12-07T12:00:00Z", "2026-12-07T12:00:00Z", ""},
		{"TodayAt2359", "2026-12-07T00:00:00Z", "2026-12-07T23:59:00Z", "2026-12-07T12:00:00Z", ""},
		{"Yesterday", "2026-12-06T00:00:00Z", "2026-12-07T00:30:00Z", "2026-12-06T12:00:00Z", ""},
		{"LastDayOfTheYear", "2026-12-31T00:00:00Z", "2027-01-01T00:30:00Z", "2026-12-31T12:00:00Z", ""},
		{"NewYearAtTheCapture", "2027-01-01T00:00:00Z", "2027-01-01T00:00:30Z", "2027-01-01T00:00:30Z", ""},
		// A station east of UTC is already in the new year.
		{"NewYearEastOfUTC", "2027-01-01T00:00:00Z", "2026-12-31T23:59:00Z", "2026-12-31T23:59:00Z", ""},
		{"LeapDay", "2028-02-29T00:00:00Z", "2028-02-29T06:00:00Z", "2028-02-29T06:00:00Z", ""},
		{"NextWeek", "2026-12-14T00:00:00Z", "2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z", "1.005: the date is in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := at(tt.now)
			req, notes, err := nistmap.Import(transaction(t, at(tt.dat)), nistmap.ImportOptions{Site: "MX-TAP", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := req.Encounter.CapturedAt, at(tt.want); !got.Equal(want) {
				t.Errorf("captured_at %v, want %v", got, want)
			}
			if err := validate(req, now); err != nil {
				t.Errorf("the import does not validate at the time of import: %v", err)
			}
			var dateNotes []string
			for _, n := range notes {
				if strings.HasPrefix(n, "1.005") {
					dateNotes = append(dateNotes, n)
				}
			}
			switch {
			case tt.note == "" && len(dateNotes) > 0:
				t.Errorf("notes %q, want none on the date", dateNotes)
			case tt.note != "" && (len(dateNotes) != 1 || !strings.Contains(dateNotes[0], tt.note)):
				t.Errorf("notes %q, want one with %q", dateNotes, tt.note)
			}
		})
	}
}
