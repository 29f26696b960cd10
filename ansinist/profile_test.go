package ansinist_test

import (
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/ansinist"
)

// profileViolations names each violation's tag, in the order found.
func profileViolations(tx *ansinist.Transaction, p *ansinist.Profile) string {
	var out []string
	for _, v := range ansinist.ValidateProfile(tx, p) {
		out = append(out, v.Tag.String())
	}
	return strings.Join(out, " ")
}

// mapTransaction is an EBTS miscellaneous applicant (MAP) transaction with
// the Type-1 fields EBTS makes mandatory for every TOT (no 1.006 priority,
// no 1.013 domain) and MAP's mandatory Type-2 fields.
func mapTransaction() *ansinist.Transaction {
	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "MAP", Date: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		Destination: "WVIAFIS0Z", Originator: "TEST00001", ControlNumber: "TCN-1"})
	tx.AddText(map[int]string{5: "N", 18: "DOE,JANE", 20: "MX", 22: "19900101", 24: "F", 25: "W", 27: "508",
		29: "130", 31: "BRO", 32: "BLK", 37: "APPLICANT", 38: "20261207", 73: "TEST00001"})
	return tx
}

// TestProfileEBTSFieldLists checks the EBTS tables against the FBI's
// published field lists (see ansinist.ProfileEBTS).
func TestProfileEBTSFieldLists(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		if got := profileViolations(mapTransaction(), ansinist.ProfileEBTS); got != "" {
			t.Errorf("a complete MAP without 1.006 and 1.013: violations %q, want none", got)
		}
	})
	t.Run("ErrMAPReasonFingerprinted", func(t *testing.T) {
		tx := mapTransaction()
		tx.RecordsOfType(2)[0].Remove(37)
		tx.RecordsOfType(2)[0].Remove(73)
		if got, want := profileViolations(tx, ansinist.ProfileEBTS), "2.037 2.073"; got != want {
			t.Errorf("violations %q, want %q", got, want)
		}
	})
	t.Run("ErrType1", func(t *testing.T) {
		tx := mapTransaction()
		tx.Header().Set(9, "")
		tx.Header().Set(13, "INT-I")
		if got, want := profileViolations(tx, ansinist.ProfileEBTS), "1.013 1.009"; got != want {
			t.Errorf("violations %q, want %q", got, want)
		}
	})
	t.Run("ErrCARArrestData", func(t *testing.T) {
		tx := mapTransaction()
		tx.Header().Set(4, "CAR")
		// A CAR carries the date of arrest and arrest segment literal, not
		// the reason fingerprinted.
		if got, want := profileViolations(tx, ansinist.ProfileEBTS), "2.045 2.047"; got != want {
			t.Errorf("violations %q, want %q", got, want)
		}
	})
	t.Run("ErrINTIDomainAbsent", func(t *testing.T) {
		tx := mapTransaction()
		tx.Header().Set(4, "CPS")
		if got := profileViolations(tx, ansinist.ProfileINTI); !strings.Contains(got, "1.013") {
			t.Errorf("INT-I without 1.013: violations %q, want 1.013", got)
		}
	})
}
