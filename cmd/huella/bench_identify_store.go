package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
)

// fileTemplateStore is the template store of "huella bench identify", the
// stand-in for the SQL stores' FindTemplates from which the gallery's
// on-demand finger slots fetch the exact stage's templates. Templates are
// appended to a data file as the bench makes them, under sample IDs that
// must increase, and a file of fixed-size (sample ID, offset) records,
// sorted by ID because of that order, is searched by bisection with
// positioned reads, as a database's B-tree index would be: none of it stays
// in the process's memory (the OS caches the files' pages, as it would a
// database's). Not safe for writes and reads at once: Seal ends the writes.
type fileTemplateStore struct {
	data, index   *os.File
	dataW, indexW *bufio.Writer
	offset        int64  // data bytes written
	records       int64  // index records written
	last          []byte // the last sample ID written
	sealed        bool

	calls atomic.Int64 // FindTemplates calls, and the time they took
	nanos atomic.Int64
	ids   atomic.Int64 // sample IDs asked for in all the calls
}

// storeIDBytes is the width of a sample ID in an index record (IDs are
// zero-padded to it); a record is the ID and the data offset.
const (
	storeIDBytes = 24
	storeRecord  = storeIDBytes + 8
)

// newFileTemplateStore creates the store's two files in dir.
func newFileTemplateStore(dir string) (*fileTemplateStore, error) {
	data, err := os.Create(dir + "/templates.data")
	if err != nil {
		return nil, err
	}
	index, err := os.Create(dir + "/templates.index")
	if err != nil {
		data.Close()
		return nil, err
	}
	return &fileTemplateStore{data: data, index: index, dataW: bufio.NewWriterSize(data, 1<<20), indexW: bufio.NewWriterSize(index, 1<<20)}, nil
}

// Write appends a template: its subject, modality, position and bytes.
func (s *fileTemplateStore) Write(t *huella.Template) error {
	id := []byte(t.SampleID)
	if s.sealed || len(id) == 0 || len(id) > storeIDBytes || bytes.Compare(id, s.last) <= 0 {
		return fmt.Errorf("bench identify: template store: sample ID %q out of order or too long", t.SampleID)
	}
	s.last = append(s.last[:0], id...)
	var rec [storeRecord]byte
	copy(rec[:], id)
	binary.LittleEndian.PutUint64(rec[storeIDBytes:], uint64(s.offset))
	if _, err := s.indexW.Write(rec[:]); err != nil {
		return err
	}
	s.records++
	b := binary.AppendUvarint(nil, uint64(len(t.SubjectID)))
	b = append(b, t.SubjectID...)
	b = binary.AppendUvarint(b, uint64(len(t.Modality)))
	b = append(b, t.Modality...)
	b = append(b, byte(t.Position))
	b = binary.AppendUvarint(b, uint64(len(t.Data)))
	b = append(b, t.Data...)
	n, err := s.dataW.Write(b)
	s.offset += int64(n)
	return err
}

// Seal flushes the writes; the store answers reads from then on.
func (s *fileTemplateStore) Seal() error {
	s.sealed = true
	if err := s.indexW.Flush(); err != nil {
		return err
	}
	return s.dataW.Flush()
}

// Close closes the files.
func (s *fileTemplateStore) Close() error {
	return errors.Join(s.data.Close(), s.index.Close())
}

// FindTemplates returns the templates of the sample IDs found, without
// SubjectID, as huella.IdentityStore does.
func (s *fileTemplateStore) FindTemplates(ctx context.Context, ids []string) ([]*huella.Template, error) {
	if len(ids) > huella.MaxTemplateIDs {
		return nil, huella.Errorf(huella.EINVALID, "at most %d sample IDs", huella.MaxTemplateIDs)
	}
	start := time.Now()
	defer func() { s.calls.Add(1); s.nanos.Add(int64(time.Since(start))); s.ids.Add(int64(len(ids))) }()
	var out []*huella.Template
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		off, ok, err := s.find(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		_, t, err := s.read(off)
		if err != nil {
			return nil, err
		}
		t.SampleID, t.SubjectID = id, ""
		out = append(out, t)
	}
	return out, nil
}

// find bisects the index records for id and returns its data offset.
func (s *fileTemplateStore) find(id string) (int64, bool, error) {
	var want [storeIDBytes]byte
	if len(id) > storeIDBytes {
		return 0, false, nil
	}
	copy(want[:], id)
	var rec [storeRecord]byte
	lo, hi := int64(0), s.records
	for lo < hi {
		mid := lo + (hi-lo)/2
		if _, err := s.index.ReadAt(rec[:], mid*storeRecord); err != nil {
			return 0, false, fmt.Errorf("template store index: %w", err)
		}
		switch c := bytes.Compare(rec[:storeIDBytes], want[:]); {
		case c == 0:
			return int64(binary.LittleEndian.Uint64(rec[storeIDBytes:])), true, nil
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false, nil
}

// read decodes the template at offset off of the data file and returns the
// offset after it.
func (s *fileTemplateStore) read(off int64) (int64, *huella.Template, error) {
	buf := make([]byte, 2048)
	n, err := s.data.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, nil, fmt.Errorf("template store: %w", err)
	}
	buf = buf[:n]
	bad := fmt.Errorf("template store: bad record at %d", off)
	pos := 0
	field := func() ([]byte, error) {
		if pos > len(buf) {
			return nil, bad
		}
		l, k := binary.Uvarint(buf[pos:])
		if k <= 0 || l > 1<<20 {
			return nil, bad
		}
		pos += k
		b := make([]byte, l)
		if got := copy(b, buf[pos:]); got < len(b) { // longer than the first read
			if _, err := s.data.ReadAt(b[got:], off+int64(pos+got)); err != nil {
				return nil, bad
			}
		}
		pos += int(l)
		return b, nil
	}
	subject, err := field()
	if err != nil {
		return 0, nil, err
	}
	modality, err := field()
	if err != nil || pos >= len(buf) {
		return 0, nil, bad
	}
	position := buf[pos]
	pos++
	data, err := field()
	if err != nil {
		return 0, nil, err
	}
	return off + int64(pos), &huella.Template{SubjectID: string(subject), Modality: huella.Modality(modality), Position: int(position), Data: data}, nil
}

// forEach calls fn with every template in the order written.
func (s *fileTemplateStore) forEach(fn func(*huella.Template) error) error {
	for off := int64(0); off < s.offset; {
		next, t, err := s.read(off)
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		off = next
	}
	return nil
}

// fetchMillis is the mean time of a FindTemplates call so far, and the
// number of calls.
func (s *fileTemplateStore) fetchMillis() (float64, int64) {
	n := s.calls.Load()
	if n == 0 {
		return 0, 0
	}
	return float64(s.nanos.Load()) / float64(n) / 1e6, n
}
