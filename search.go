package huella

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Searching people by name and document. Names are written many ways across
// encounters (accents dropped by one officer and kept by another, family
// names swapped, upper case on documents), so both the stores' index and
// the query reduce them with the same functions.

// MaxNameWords bounds the words of a name query (EncounterFilter.Name).
const MaxNameWords = 8

// NameWords returns the words of s for name search: lower case, accents and
// other combining marks removed, split at anything that is not a letter or
// a digit. "María-José  Méndez" gives [maria jose mendez].
func NameWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// DocumentKey returns a document number as searched: its ASCII letters and
// digits, upper case, so that "g-1234 567" finds "G1234567".
func DocumentKey(number string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(number) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NameWord is a word of one of an encounter's names, as the stores index
// it: NameNo is the name's index in Biographics.Names.
type NameWord struct {
	NameNo int
	Word   string
}

// SearchTerms returns what the stores index of an encounter's biographics
// for EncounterFilter's Name and Document: each name's distinct words, and
// the distinct keys of its document numbers.
func SearchTerms(b *Biographics) (words []NameWord, documents []string) {
	for i, n := range b.Names {
		seen := map[string]bool{}
		for _, w := range NameWords(n.Given + " " + n.Family) {
			if !seen[w] {
				seen[w] = true
				words = append(words, NameWord{NameNo: i, Word: w})
			}
		}
	}
	seen := map[string]bool{}
	for _, d := range b.Documents {
		if k := DocumentKey(d.Number); k != "" && !seen[k] {
			seen[k] = true
			documents = append(documents, k)
		}
	}
	return words, documents
}

// WordUpperBound returns the smallest string greater than every string that
// begins with prefix, for index range scans: prefix ≤ word < bound.
func WordUpperBound(prefix string) string { return prefix + "\U0010FFFF" }
