package ansinist

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var resolutionPattern = regexp.MustCompile(`^\d{2}\.\d{2}$`)

// isDate reports whether v is a valid YYYYMMDD date.
func isDate(v string) bool {
	_, err := time.Parse("20060102", v)
	return err == nil && len(v) == 8
}

// valueCheck is a rule on the first item of one field.
type valueCheck struct {
	recordType, field int
	message           string
	ok                func(string) bool
}

func oneOf(values ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(values, strings.ToUpper(v)) }
}

// valueChecks are the value rules strict mode applies beyond presence:
// image types, eye positions, compression names and record dates.
var valueChecks = []valueCheck{
	{10, 3, "unknown image type", oneOf("FACE", "SCAR", "MARK", "TATTOO")},
	{17, 3, "eye position must be 0, 1 or 2", oneOf("0", "1", "2")},
	{10, 5, "not a date YYYYMMDD", isDate},
	{13, 5, "not a date YYYYMMDD", isDate},
	{14, 5, "not a date YYYYMMDD", isDate},
	{15, 5, "not a date YYYYMMDD", isDate},
	{17, 5, "not a date YYYYMMDD", isDate},
}

func init() {
	codes := oneOf("NONE", "WSQ", "WSQ20", "JPEGB", "JPEGL", "JP2", "JP2L", "PNG")
	for _, t := range []int{10, 13, 14, 15, 16, 17} {
		valueChecks = append(valueChecks, valueCheck{t, 11, "unknown compression", codes})
	}
}

// knownVersions are the values of 1.002 (VER) this package reads without a
// violation: ANSI/NIST-ITL 1-1993 to 1-2011 Update 2015.
var knownVersions = []string{"0200", "0201", "0300", "0400", "0500", "0501", "0502"}

// requiredFields lists, per tagged record type, the fields the standard
// makes mandatory (beyond LEN and IDC, which every tagged record needs).
var requiredFields = map[int][]int{
	1:  {1, 2, 3, 4, 5, 7, 8, 9, 11, 12},
	2:  {1, 2},
	9:  {1, 2, 3, 4},
	10: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, DataField},
	13: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	14: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	15: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, DataField},
	16: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, DataField},
	17: {1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, DataField},
}

// numericFields lists fields whose first item must be an unsigned integer.
var numericFields = map[int][]int{
	10: {6, 7, 8, 9, 10},
	13: {6, 7, 8, 9, 10, 12},
	14: {3, 6, 7, 8, 9, 10, 12, 13},
	15: {3, 6, 7, 8, 9, 10, 12, 13},
	17: {3, 6, 7, 8, 9, 10, 12},
}

// Validate checks a transaction against the rules of the standard this
// package knows: the Type-1 fields and version, CNT against the records
// present, field order and required and numeric fields of each record type,
// and the binary headers. It returns every violation found.
func Validate(tx *Transaction) []Violation {
	var out []Violation
	add := func(t Tag, msg string) { out = append(out, Violation{Tag: t, Message: msg}) }
	h := tx.Header()
	if h == nil {
		return []Violation{{Tag: Tag{1, 1}, Message: "no type-1 record"}}
	}
	if v := h.Get(2); !slices.Contains(knownVersions, v) {
		add(Tag{1, 2}, "unknown version "+strconv.Quote(v))
	}
	out = append(out, checkContents(tx)...)
	if v := h.Get(5); !isDate(v) {
		add(Tag{1, 5}, "not a date YYYYMMDD: "+strconv.Quote(v))
	}
	for _, n := range []int{11, 12} {
		if v := h.Get(n); !resolutionPattern.MatchString(v) {
			add(Tag{1, n}, "not a resolution NN.NN: "+strconv.Quote(v))
		}
	}
	for _, r := range tx.Records {
		if IsBinary(r.Type) {
			continue
		}
		for i := 1; i < len(r.Fields); i++ {
			prev, cur := r.Fields[i-1].Number, r.Fields[i].Number
			if cur == prev {
				add(Tag{r.Type, cur}, "repeated field")
			} else if cur < prev && i > 1 {
				add(Tag{r.Type, cur}, "out of order after "+Tag{r.Type, prev}.String())
			}
		}
		if len(r.Fields) < 2 || r.Fields[0].Number != 1 || r.Fields[1].Number != 2 {
			add(Tag{r.Type, 1}, "LEN and IDC (or VER) must be the first two fields")
		}
		for _, n := range requiredFields[r.Type] {
			if f := r.Field(n); f == nil || (f.Data == nil && f.Text() == "") {
				add(Tag{r.Type, n}, "required")
			}
		}
		if r.Type != 1 {
			if _, ok := r.GetInt(2); !ok {
				add(Tag{r.Type, 2}, "IDC is not a number")
			}
		}
		for _, c := range valueChecks {
			if c.recordType != r.Type {
				continue
			}
			if f := r.Field(c.field); f != nil && f.Data == nil {
				if v := strings.TrimSpace(f.Value()); v != "" && !c.ok(v) {
					add(Tag{r.Type, c.field}, c.message+": "+strconv.Quote(v))
				}
			}
		}
		for _, n := range numericFields[r.Type] {
			if f := r.Field(n); f != nil {
				if _, err := strconv.ParseUint(strings.TrimSpace(f.Value()), 10, 32); err != nil {
					add(Tag{r.Type, n}, "not a number: "+strconv.Quote(f.Value()))
				}
			}
		}
	}
	return out
}

// checkContents compares 1.003 (CNT) with the records present.
func checkContents(tx *Transaction) []Violation {
	t := Tag{1, 3}
	h := tx.Header()
	f := h.Field(3)
	if f == nil || len(f.Subfields) == 0 {
		return []Violation{{Tag: t, Message: "required"}}
	}
	var out []Violation
	first := f.Subfields[0]
	if len(first) < 2 || strings.TrimSpace(first[0]) != "1" {
		out = append(out, Violation{t, "first subfield must be 1 and the record count"})
	} else if n, err := strconv.Atoi(strings.TrimSpace(first[1])); err != nil || n != len(f.Subfields)-1 {
		out = append(out, Violation{t, "record count " + strconv.Quote(first[1]) + " disagrees with " + strconv.Itoa(len(f.Subfields)-1) + " entries"})
	}
	entries, err := contentEntries(h)
	if err != nil {
		return append(out, Violation{t, err.Error()})
	}
	records := tx.Records[1:]
	if len(entries) != len(records) {
		out = append(out, Violation{t, "lists " + strconv.Itoa(len(entries)) + " records, transaction holds " + strconv.Itoa(len(records))})
	}
	for i := 0; i < min(len(entries), len(records)); i++ {
		e, r := entries[i], records[i]
		if e.recordType != r.Type {
			out = append(out, Violation{t, "entry " + strconv.Itoa(i+1) + " is type " + strconv.Itoa(e.recordType) + ", record is type " + strconv.Itoa(r.Type)})
		} else if e.idc != r.IDC() {
			out = append(out, Violation{t, "entry " + strconv.Itoa(i+1) + " has IDC " + strconv.Itoa(e.idc) + ", record has " + strconv.Itoa(r.IDC())})
		}
	}
	return out
}
