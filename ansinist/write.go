package ansinist

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Marshal encodes the transaction in the traditional encoding. It first
// recomputes 1.003 (CNT) from the records present and every record length
// (LEN); fields keep their order and, for fields read from a file, their
// tag text, so a transaction read and written back unchanged is
// byte-identical.
func (t *Transaction) Marshal() ([]byte, error) {
	h := t.Header()
	if h == nil {
		return nil, fmt.Errorf("ansinist: write: transaction has no type-1 record")
	}
	t.updateContents()
	var buf bytes.Buffer
	for i, r := range t.Records {
		if i > 0 && r.Type == 1 {
			return nil, fmt.Errorf("ansinist: write: record %d is a second type-1 record", i+1)
		}
		var err error
		if IsBinary(r.Type) {
			err = writeBinary(&buf, r)
		} else {
			err = writeTagged(&buf, r)
		}
		if err != nil {
			return nil, fmt.Errorf("ansinist: write record %d (type %d): %w", i+1, r.Type, err)
		}
	}
	return buf.Bytes(), nil
}

// WriteTo writes the encoded transaction to w.
func (t *Transaction) WriteTo(w io.Writer) (int64, error) {
	data, err := t.Marshal()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(data)
	return int64(n), err
}

// updateContents sets 1.003 (CNT) from the records, keeping the existing
// text when it already says the same thing.
func (t *Transaction) updateContents() {
	h := t.Header()
	subs := [][]string{{"1", strconv.Itoa(len(t.Records) - 1)}}
	for _, r := range t.Records[1:] {
		subs = append(subs, []string{strconv.Itoa(r.Type), fmt.Sprintf("%02d", max(r.IDC(), 0))})
	}
	if f := h.Field(3); f != nil && sameContents(f.Subfields, subs) {
		return
	}
	h.SetSubfields(3, subs)
}

// sameContents compares two CNT values numerically.
func sameContents(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			x, err1 := strconv.Atoi(strings.TrimSpace(a[i][j]))
			y, err2 := strconv.Atoi(strings.TrimSpace(b[i][j]))
			if err1 != nil || err2 != nil || x != y {
				return false
			}
		}
	}
	return true
}

func (f *Field) labelFor(recordType int) string {
	if f.label != "" {
		return f.label
	}
	return Tag{recordType, f.Number}.String()
}

// writeTagged writes a tagged record with its LEN computed.
func writeTagged(buf *bytes.Buffer, r *Record) error {
	if len(r.Fields) == 0 || r.Fields[0].Number != 1 {
		r.setField(Field{Number: 1, Subfields: [][]string{{"0"}}})
	}
	var body bytes.Buffer
	for i := 1; i < len(r.Fields); i++ {
		f := &r.Fields[i]
		if f.Number == 1 {
			return fmt.Errorf("field %s repeated", Tag{r.Type, 1})
		}
		body.WriteByte(GS)
		body.WriteString(f.labelFor(r.Type))
		body.WriteByte(':')
		if f.Data != nil {
			if i != len(r.Fields)-1 {
				return fmt.Errorf("binary field %s must be the last field", Tag{r.Type, f.Number})
			}
			body.Write(f.Data)
			continue
		}
		for _, sub := range f.Subfields {
			for _, item := range sub {
				if strings.ContainsAny(item, string([]byte{FS, GS, RS, US})) {
					return fmt.Errorf("field %s holds a separator byte in an item", Tag{r.Type, f.Number})
				}
			}
		}
		body.WriteString(f.Text())
	}
	body.WriteByte(FS)
	lenField := &r.Fields[0]
	prefix := lenField.labelFor(r.Type) + ":"
	// The length counts its own digits: grow the digit count until it fits.
	length := 0
	for digits := 1; digits < 12; digits++ {
		length = len(prefix) + digits + body.Len()
		if len(strconv.Itoa(length)) == digits {
			break
		}
	}
	if length > math.MaxInt32 {
		return fmt.Errorf("record of %d bytes is too long", length)
	}
	if old, err := strconv.Atoi(lenField.Value()); err != nil || old != length {
		lenField.Subfields = [][]string{{strconv.Itoa(length)}}
	}
	buf.WriteString(prefix)
	buf.WriteString(lenField.Value())
	buf.Write(body.Bytes())
	return nil
}

// writeBinary writes a binary record (Types 3–8) with its 4-byte length.
func writeBinary(buf *bytes.Buffer, r *Record) error {
	if want := binaryHeaderSize(r.Type); len(r.Header) != want {
		return fmt.Errorf("binary header of %d bytes, want %d", len(r.Header), want)
	}
	length := 4 + len(r.Header) + len(r.Data)
	if length > math.MaxUint32 {
		return fmt.Errorf("record of %d bytes is too long", length)
	}
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(length))
	buf.Write(l[:])
	buf.Write(r.Header)
	buf.Write(r.Data)
	return nil
}
