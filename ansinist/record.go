package ansinist

import (
	"fmt"
	"strconv"
	"strings"
)

// Separators of the traditional encoding.
const (
	FS = 0x1C // file separator: ends a record
	GS = 0x1D // group separator: between fields
	RS = 0x1E // record separator: between subfields
	US = 0x1F // unit separator: between items
)

// DataField is the field number of the binary data field of tagged image
// records (Types 10, 13–17, 20, 21, 99): its value is raw bytes up to the end
// of the record and may contain separator bytes.
const DataField = 999

// Tag names one field: record type and field number, written "10.003".
type Tag struct {
	Record, Field int
}

// String formats the tag as the standard writes it ("10.003").
func (t Tag) String() string { return fmt.Sprintf("%d.%03d", t.Record, t.Field) }

// Field is one field of a tagged record: its subfields, each a list of
// items. The binary data field keeps its bytes in Data instead.
type Field struct {
	// Number is the field number (3 for 10.003).
	Number int
	// Subfields holds the items of each subfield (split on RS, then US).
	Subfields [][]string
	// Data is the raw value of a binary field (field 999); nil otherwise.
	Data []byte
	// label is the tag text as read ("10.03", "2.018"), kept so that a
	// transaction written back is byte-identical; empty for new fields.
	label string
}

// Value returns the first item of the first subfield, or "".
func (f *Field) Value() string {
	if f == nil || len(f.Subfields) == 0 || len(f.Subfields[0]) == 0 {
		return ""
	}
	return f.Subfields[0][0]
}

// Text returns the field value as the file writes it (items joined with US,
// subfields with RS).
func (f *Field) Text() string {
	if f == nil {
		return ""
	}
	if f.Data != nil {
		return string(f.Data)
	}
	parts := make([]string, len(f.Subfields))
	for i, sub := range f.Subfields {
		parts[i] = strings.Join(sub, string(rune(US)))
	}
	return strings.Join(parts, string(rune(RS)))
}

// parseValue splits a text value into subfields and items.
func parseValue(v string) [][]string {
	subs := strings.Split(v, string(rune(RS)))
	out := make([][]string, len(subs))
	for i, s := range subs {
		out[i] = strings.Split(s, string(rune(US)))
	}
	return out
}

// Record is one logical record. Tagged records (Types 1, 2, 9, 10, 13–21,
// 98, 99) hold Fields in file order; binary records (Types 3–8) hold their
// fixed header in Header and their image or user data in Data.
type Record struct {
	// Type is the logical record type (1, 2, 4, 10, 14, …).
	Type int
	// Fields holds the fields of a tagged record in file order, 1 (LEN)
	// and 2 (IDC, or VER for Type-1) first.
	Fields []Field
	// Header is the fixed header of a binary record after its 4-byte length:
	// 14 bytes for Types 3–6 (IDC, IMP, FGP×6, ISR, HLL, VLL, GCA), 8 for
	// Type-8 (IDC, SIG, SRT, ISR, HLL, VLL) and 1 (IDC) for Type-7.
	Header []byte
	// Data is the image or user data of a binary record.
	Data []byte
}

// IsBinary reports whether records of type t use the binary encoding.
func IsBinary(t int) bool { return t >= 3 && t <= 8 }

// binaryHeaderSize returns the length of a binary record's header after LEN.
func binaryHeaderSize(t int) int {
	switch t {
	case 7:
		return 1
	case 8:
		return 8
	default:
		return 14
	}
}

// Field returns the field with number n, or nil.
func (r *Record) Field(n int) *Field {
	for i := range r.Fields {
		if r.Fields[i].Number == n {
			return &r.Fields[i]
		}
	}
	return nil
}

// Get returns the first item of field n ("" when absent): rec.Get(18) is
// the name in a Type-2 record.
func (r *Record) Get(n int) string { return r.Field(n).Value() }

// GetInt returns field n as an integer and whether it is present and numeric.
func (r *Record) GetInt(n int) (int, bool) {
	v, err := strconv.Atoi(strings.TrimSpace(r.Get(n)))
	return v, err == nil
}

// Set sets field n to a single value, replacing it or inserting it in field
// order.
func (r *Record) Set(n int, value string) {
	r.SetSubfields(n, [][]string{{value}})
}

// SetSubfields sets field n to the given subfields and items.
func (r *Record) SetSubfields(n int, subfields [][]string) {
	r.setField(Field{Number: n, Subfields: subfields})
}

// SetData sets the binary data field (999) of a tagged record.
func (r *Record) SetData(data []byte) {
	r.setField(Field{Number: DataField, Data: data})
}

func (r *Record) setField(f Field) {
	for i := range r.Fields {
		if r.Fields[i].Number == f.Number {
			f.label = r.Fields[i].label
			r.Fields[i] = f
			return
		}
	}
	i := len(r.Fields)
	for i > 0 && r.Fields[i-1].Number > f.Number {
		i--
	}
	r.Fields = append(r.Fields, Field{})
	copy(r.Fields[i+1:], r.Fields[i:])
	r.Fields[i] = f
}

// Remove deletes field n if present.
func (r *Record) Remove(n int) {
	for i := range r.Fields {
		if r.Fields[i].Number == n {
			r.Fields = append(r.Fields[:i], r.Fields[i+1:]...)
			return
		}
	}
}

// IDC returns the information designation character of the record (field
// 2 of tagged records, the header byte of binary ones); -1 when absent. A
// Type-1 record has none.
func (r *Record) IDC() int {
	if IsBinary(r.Type) {
		if len(r.Header) < 1 {
			return -1
		}
		return int(r.Header[0])
	}
	if r.Type == 1 {
		return -1
	}
	v, ok := r.GetInt(2)
	if !ok {
		return -1
	}
	return v
}

// Transaction is one ANSI/NIST-ITL file: the Type-1 record followed by the
// records its CNT field lists.
type Transaction struct {
	Records []*Record
	// Warnings lists the violations found when the transaction was read in
	// lenient mode (empty in strict mode, where they are an error).
	Warnings []Violation
}

// Header returns the Type-1 record (nil for an empty transaction).
func (t *Transaction) Header() *Record {
	if len(t.Records) == 0 || t.Records[0].Type != 1 {
		return nil
	}
	return t.Records[0]
}

// Version returns the standard version of field 1.002 ("0502").
func (t *Transaction) Version() string {
	if h := t.Header(); h != nil {
		return h.Get(2)
	}
	return ""
}

// TransactionType returns field 1.004 (TOT), for example "CAR".
func (t *Transaction) TransactionType() string {
	if h := t.Header(); h != nil {
		return h.Get(4)
	}
	return ""
}

// RecordsOfType returns the records of the given type in file order.
func (t *Transaction) RecordsOfType(recordType int) []*Record {
	var out []*Record
	for _, r := range t.Records {
		if r.Type == recordType {
			out = append(out, r)
		}
	}
	return out
}

// Get returns field number field of the first record of type recordType
// ("" when absent): tx.Get(2, 18) is the subject's name.
func (t *Transaction) Get(recordType, field int) string {
	for _, r := range t.Records {
		if r.Type == recordType {
			return r.Get(field)
		}
	}
	return ""
}
