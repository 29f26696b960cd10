package ansinist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mode selects how the reader treats violations of the standard.
type Mode int

const (
	// Lenient reads whatever can be read and lists violations as warnings.
	Lenient Mode = iota
	// Strict fails on any violation, naming the record and field of each.
	Strict
)

// ErrFormat reports bytes that cannot be read as a transaction at all.
var ErrFormat = errors.New("ansinist: invalid format")

// Violation is one departure from the standard, located by its tag.
type Violation struct {
	Tag     Tag
	Message string
}

// String formats the violation as "10.003: required".
func (v Violation) String() string { return v.Tag.String() + ": " + v.Message }

// ValidationError is the error of a strict read: every violation found.
type ValidationError struct {
	Violations []Violation
}

// Error lists the violations, separated by semicolons.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "ansinist: " + strings.Join(parts, "; ")
}

// Read reads a transaction in lenient mode: violations become Warnings.
func Read(data []byte) (*Transaction, error) { return Decode(data, Lenient) }

// ReadStrict reads a transaction and fails with a *ValidationError on any
// violation of the standard.
func ReadStrict(data []byte) (*Transaction, error) { return Decode(data, Strict) }

// Decode reads a transaction in the traditional encoding: the Type-1 record,
// then each record its CNT field lists, tagged records sliced by their LEN
// field (so binary data fields may hold separator bytes) and binary records
// by their 4-byte length. Both modes fail on bytes that cannot be sliced
// into records; strict mode also fails on every violation of the rules in
// Validate.
func Decode(data []byte, mode Mode) (*Transaction, error) {
	rd := &reader{data: data}
	tx, err := rd.transaction()
	if err != nil {
		return nil, err
	}
	violations := append(rd.violations, Validate(tx)...)
	if mode == Strict && len(violations) > 0 {
		return nil, &ValidationError{Violations: violations}
	}
	tx.Warnings = violations
	return tx, nil
}

type reader struct {
	data       []byte
	pos        int
	violations []Violation
}

func (rd *reader) violate(t Tag, format string, args ...any) {
	rd.violations = append(rd.violations, Violation{Tag: t, Message: fmt.Sprintf(format, args...)})
}

// transaction reads the Type-1 record and the records its CNT lists.
func (rd *reader) transaction() (*Transaction, error) {
	first, err := rd.tagged(1)
	if err != nil {
		return nil, fmt.Errorf("type-1 record: %w", err)
	}
	if first.Type != 1 {
		return nil, fmt.Errorf("%w: first record is type %d, not 1", ErrFormat, first.Type)
	}
	tx := &Transaction{Records: []*Record{first}}
	entries, err := contentEntries(first)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if rd.pos >= len(rd.data) {
			rd.violate(Tag{1, 3}, "lists %d records, file holds %d", len(entries), i)
			break
		}
		var rec *Record
		if IsBinary(e.recordType) {
			rec, err = rd.binary(e.recordType)
		} else {
			rec, err = rd.tagged(e.recordType)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d (type %d): %w", i+2, e.recordType, err)
		}
		tx.Records = append(tx.Records, rec)
	}
	// Tagged records beyond those CNT lists are read with a warning.
	for rd.pos < len(rd.data) {
		if !isDigit(rd.data[rd.pos]) {
			return nil, fmt.Errorf("%w: %d bytes after the last record", ErrFormat, len(rd.data)-rd.pos)
		}
		rec, err := rd.tagged(0)
		if err != nil {
			return nil, fmt.Errorf("record beyond CNT: %w", err)
		}
		rd.violate(Tag{1, 3}, "does not list record %d (type %d)", len(tx.Records)+1, rec.Type)
		tx.Records = append(tx.Records, rec)
	}
	return tx, nil
}

// contentEntry is one subfield of the CNT field after the first.
type contentEntry struct {
	recordType, idc int
}

// contentEntries parses field 1.003 (CNT).
func contentEntries(first *Record) ([]contentEntry, error) {
	f := first.Field(3)
	if f == nil {
		return nil, fmt.Errorf("%w: 1.003 (CNT) missing", ErrFormat)
	}
	var out []contentEntry
	for i, sub := range f.Subfields {
		if i == 0 {
			continue // "1", number of other records
		}
		t, err := strconv.Atoi(strings.TrimSpace(sub[0]))
		if err != nil || t < 2 || t > 99 {
			return nil, fmt.Errorf("%w: 1.003 (CNT) subfield %d: record type %q", ErrFormat, i+1, sub[0])
		}
		idc := -1
		if len(sub) > 1 {
			if v, err := strconv.Atoi(strings.TrimSpace(sub[1])); err == nil {
				idc = v
			}
		}
		out = append(out, contentEntry{recordType: t, idc: idc})
	}
	return out, nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// parseLabel parses a tag label such as "10.003" or "1.01".
func parseLabel(label string) (recordType, field int, ok bool) {
	a, b, found := strings.Cut(label, ".")
	if !found || a == "" || b == "" {
		return 0, 0, false
	}
	t, err1 := strconv.Atoi(a)
	f, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || t < 0 || f < 0 || len(a) > 2 || len(b) > 3 {
		return 0, 0, false
	}
	return t, f, true
}

// tagged reads a tagged record at the cursor. wantType 0 accepts any type.
func (rd *reader) tagged(wantType int) (*Record, error) {
	rest := rd.data[rd.pos:]
	colon := bytes.IndexByte(rest[:min(len(rest), 16)], ':')
	if colon < 0 {
		return nil, fmt.Errorf("%w: no LEN field at byte %d", ErrFormat, rd.pos)
	}
	recordType, field, ok := parseLabel(string(rest[:colon]))
	if !ok || field != 1 {
		return nil, fmt.Errorf("%w: record at byte %d does not start with its LEN field", ErrFormat, rd.pos)
	}
	end := colon + 1
	for end < len(rest) && end < colon+12 && rest[end] != GS && rest[end] != FS {
		end++
	}
	length, err := strconv.Atoi(strings.TrimSpace(string(rest[colon+1 : end])))
	if err != nil || length <= end {
		return nil, fmt.Errorf("%w: %d.001 (LEN) %q at byte %d", ErrFormat, recordType, rest[colon+1:end], rd.pos)
	}
	if length > len(rest) {
		return nil, fmt.Errorf("%w: %d.001 (LEN) says %d bytes, %d remain", ErrFormat, recordType, length, len(rest))
	}
	if recordType < 1 || recordType > 99 || IsBinary(recordType) || (recordType == 1) != (wantType == 1) {
		return nil, fmt.Errorf("%w: tagged record of type %d at byte %d", ErrFormat, recordType, rd.pos)
	}
	if wantType != 0 && recordType != wantType {
		rd.violate(Tag{1, 3}, "lists type %d where the file has a type-%d record", wantType, recordType)
	}
	body := rest[:length]
	rd.pos += length
	rec := &Record{Type: recordType}
	if body[len(body)-1] != FS {
		rd.violate(Tag{recordType, 1}, "record does not end with a file separator")
	} else {
		body = body[:len(body)-1]
	}
	for len(body) > 0 {
		colon := bytes.IndexByte(body[:min(len(body), 16)], ':')
		if colon < 0 {
			return nil, fmt.Errorf("%w: type-%d record: field without a tag", ErrFormat, recordType)
		}
		label := string(body[:colon])
		t, n, ok := parseLabel(label)
		if !ok {
			return nil, fmt.Errorf("%w: type-%d record: bad tag %q", ErrFormat, recordType, label)
		}
		if t != recordType {
			rd.violate(Tag{recordType, n}, "tag %q names record type %d", label, t)
		}
		value := body[colon+1:]
		if n == DataField && !repeatedText(value, label) {
			rec.Fields = append(rec.Fields, Field{Number: n, Data: bytes.Clone(value), label: label})
			break
		}
		next := len(value)
		if i := bytes.IndexByte(value, GS); i >= 0 {
			next = i
		}
		rec.Fields = append(rec.Fields, Field{Number: n, Subfields: parseValue(string(value[:next])), label: label})
		if next == len(value) {
			break
		}
		body = value[next+1:]
		if len(body) == 0 {
			rd.violate(Tag{recordType, n}, "empty field after the group separator")
		}
	}
	return rec, nil
}

// binary reads a binary record (Types 3–8) at the cursor.
func (rd *reader) binary(recordType int) (*Record, error) {
	rest := rd.data[rd.pos:]
	hs := binaryHeaderSize(recordType)
	if len(rest) < 4+hs {
		return nil, fmt.Errorf("%w: binary record header truncated", ErrFormat)
	}
	length := int(binary.BigEndian.Uint32(rest))
	if length < 4+hs || length > len(rest) {
		return nil, fmt.Errorf("%w: binary record length %d (%d bytes remain)", ErrFormat, length, len(rest))
	}
	rd.pos += length
	return &Record{
		Type:   recordType,
		Header: bytes.Clone(rest[4 : 4+hs]),
		Data:   bytes.Clone(rest[4+hs : length]),
	}, nil
}

// repeatedText reports whether a data field value is a short text value
// followed by another field with the same tag, as some test files repeat
// 999 with text before the binary one.
func repeatedText(value []byte, label string) bool {
	i := bytes.IndexByte(value[:min(len(value), 64)], GS)
	return i >= 0 && bytes.HasPrefix(value[i+1:], []byte(label+":"))
}
