package gallery

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/huella-abis/huella"
)

// A snapshot is the gallery's templates in one file, for a warm start that
// does not query the store: "HGS2", then per template a uvarint-prefixed
// subject ID, a uvarint-prefixed sample ID (which an on-demand slot keeps
// to fetch the template from the store), modality, position and eye as one
// byte each, the quality, and the uvarint-prefixed template bytes. "HGS1"
// snapshots, written before, have no sample ID and still load.
var (
	snapshotMagic   = []byte("HGS2")
	snapshotMagicV1 = []byte("HGS1")
)

// Bounds a snapshot reader enforces on hostile input.
const (
	maxSnapshotID       = 256
	maxSnapshotTemplate = 1 << 20
)

var modalityCodes = []huella.Modality{huella.ModalityFinger, huella.ModalityIris, huella.ModalityFace}

// SnapshotWriter writes templates to a snapshot.
type SnapshotWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewSnapshotWriter starts a snapshot on w.
func NewSnapshotWriter(w io.Writer) (*SnapshotWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(snapshotMagic); err != nil {
		return nil, err
	}
	return &SnapshotWriter{w: bw}, nil
}

// Write appends one template.
func (s *SnapshotWriter) Write(t *huella.Template) error {
	code := -1
	for i, m := range modalityCodes {
		if m == t.Modality {
			code = i
		}
	}
	if code < 0 || len(t.SubjectID) > maxSnapshotID || len(t.SampleID) > maxSnapshotID || len(t.Data) > maxSnapshotTemplate {
		return fmt.Errorf("gallery: template of %s cannot be snapshotted", t.Modality)
	}
	eye := byte(0)
	if t.Eye == huella.EyeLeft {
		eye = 1
	}
	b := s.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(t.SubjectID)))
	b = append(b, t.SubjectID...)
	b = binary.AppendUvarint(b, uint64(len(t.SampleID)))
	b = append(b, t.SampleID...)
	b = append(b, byte(code), byte(t.Position), eye, byte(t.Quality))
	b = binary.AppendUvarint(b, uint64(len(t.Data)))
	b = append(b, t.Data...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// Close flushes the snapshot.
func (s *SnapshotWriter) Close() error { return s.w.Flush() }

// LoadSnapshot adds every template of a snapshot to the gallery and returns
// how many. A truncated or malformed snapshot is an error.
func (g *Gallery) LoadSnapshot(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	_, err := io.ReadFull(br, magic)
	v1 := err == nil && string(magic) == string(snapshotMagicV1)
	if err != nil || !v1 && string(magic) != string(snapshotMagic) {
		return 0, errors.New("gallery: not a snapshot")
	}
	var n int
	var id, sample []byte
	for {
		l, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil || l > maxSnapshotID {
			return n, fmt.Errorf("gallery: snapshot template %d: bad subject", n)
		}
		if uint64(cap(id)) < l {
			id = make([]byte, l)
		}
		id = id[:l]
		var head [4]byte
		if _, err := io.ReadFull(br, id); err != nil {
			return n, fmt.Errorf("gallery: snapshot truncated at template %d", n)
		}
		sample = sample[:0]
		if !v1 {
			l, err := binary.ReadUvarint(br)
			if err != nil || l > maxSnapshotID {
				return n, fmt.Errorf("gallery: snapshot template %d: bad sample", n)
			}
			if uint64(cap(sample)) < l {
				sample = make([]byte, l)
			}
			sample = sample[:l]
			if _, err := io.ReadFull(br, sample); err != nil {
				return n, fmt.Errorf("gallery: snapshot truncated at template %d", n)
			}
		}
		if _, err := io.ReadFull(br, head[:]); err != nil || int(head[0]) >= len(modalityCodes) {
			return n, fmt.Errorf("gallery: snapshot template %d: bad header", n)
		}
		size, err := binary.ReadUvarint(br)
		if err != nil || size > maxSnapshotTemplate {
			return n, fmt.Errorf("gallery: snapshot template %d: bad size", n)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(br, data); err != nil {
			return n, fmt.Errorf("gallery: snapshot truncated at template %d", n)
		}
		t := &huella.Template{SubjectID: string(id), SampleID: string(sample), Modality: modalityCodes[head[0]], Position: int(head[1]), Quality: int(head[3]), Data: data}
		if t.Modality == huella.ModalityIris {
			t.Eye = huella.EyeRight
			if head[2] == 1 {
				t.Eye = huella.EyeLeft
			}
		}
		if err := g.Add(t); err != nil {
			return n, fmt.Errorf("gallery: snapshot template %d: %w", n, err)
		}
		n++
	}
}
