package gallery

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
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

// snapshotChunk is how many bytes of whole records a snapshot is cut into
// for its decoding on every core; a record (at most two IDs, a header and
// maxSnapshotTemplate bytes) always fits, and a chunk read short of one is
// grown.
var snapshotChunk = 4 << 20

// snapshotRecord is one template of a snapshot, its fields slices of the
// snapshot's bytes.
type snapshotRecord struct {
	id, sample, data []byte
	head             [4]byte // modality code, position, eye, quality
}

// errShortRecord is parseRecord's answer when b ends inside the record.
var errShortRecord = errors.New("gallery: snapshot record cut")

// parseRecord reads the record at the start of b into rec and returns its
// length: errShortRecord when b ends inside it, a format error (to be
// numbered by the caller) when it is malformed.
func parseRecord(b []byte, v1 bool, rec *snapshotRecord) (int, error) {
	field := func(i int, limit uint64, bad string) ([]byte, int, error) {
		l, k := binary.Uvarint(b[i:])
		switch {
		case k == 0:
			return nil, 0, errShortRecord
		case k < 0 || l > limit:
			return nil, 0, errors.New(bad)
		case uint64(len(b)-i-k) < l:
			return nil, 0, errShortRecord
		}
		return b[i+k : i+k+int(l)], i + k + int(l), nil
	}
	var i int
	var err error
	if rec.id, i, err = field(0, maxSnapshotID, "bad subject"); err != nil {
		return 0, err
	}
	rec.sample = nil
	if !v1 {
		if rec.sample, i, err = field(i, maxSnapshotID, "bad sample"); err != nil {
			return 0, err
		}
	}
	if len(b)-i < len(rec.head) {
		return 0, errShortRecord
	}
	copy(rec.head[:], b[i:])
	if int(rec.head[0]) >= len(modalityCodes) {
		return 0, errors.New("bad header")
	}
	if rec.data, i, err = field(i+len(rec.head), maxSnapshotTemplate, "bad size"); err != nil {
		return 0, err
	}
	return i, nil
}

// template returns the record as a template whose fields are copies.
func (rec *snapshotRecord) template() *huella.Template {
	t := &huella.Template{SubjectID: string(rec.id), SampleID: string(rec.sample), Modality: modalityCodes[rec.head[0]],
		Position: int(rec.head[1]), Quality: int(rec.head[3]), Data: bytes.Clone(rec.data)}
	if t.Modality == huella.ModalityIris {
		t.Eye = huella.EyeRight
		if rec.head[2] == 1 {
			t.Eye = huella.EyeLeft
		}
	}
	return t
}

// snapshotChunkJob is a run of whole records of a snapshot: decoded by a
// worker (decode), then added to the gallery in snapshot order (merge).
type snapshotChunkJob struct {
	data  []byte
	first int // number of the chunk's first template in the snapshot
	count int // records in the chunk
	done  chan struct{}

	// Set by decode. records are the chunk's templates up to the first
	// that failed (err, at template first+len(records)); slots are the
	// slots they go to, batches the Loader slots' decoded entries.
	records []decodedRecord
	slots   []*slot
	batches []engine.Batch // per slot; nil: not a Loader, templates kept whole
	err     error
}

type decodedRecord struct {
	rec  snapshotRecord
	slot int              // index into the job's slots
	same bool             // the subject of the record before it in the chunk
	t    *huella.Template // a template for a slot whose index is not a Loader
}

// recordSlices are emptied decodedRecord slices for the next chunks.
var recordSlices sync.Pool

// LoadSnapshot adds every template of a snapshot to the gallery and returns
// how many. A truncated or malformed snapshot is an error, the templates
// before the bad one being added. Loading is parallel: the snapshot is cut
// into chunks of whole records, decoded on every core into batches of the
// indexes' own entries (engine.Loader), which are then copied into the
// indexes in snapshot order, so that the gallery holds exactly what adding
// each template in turn would give it.
func (g *Gallery) LoadSnapshot(r io.Reader) (int, error) {
	magic := make([]byte, len(snapshotMagic))
	_, err := io.ReadFull(r, magic)
	v1 := err == nil && string(magic) == string(snapshotMagicV1)
	if err != nil || !v1 && string(magic) != string(snapshotMagic) {
		return 0, errors.New("gallery: not a snapshot")
	}
	size, err := remaining(r)
	if err != nil {
		return 0, err
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *snapshotChunkJob, workers)
	order := make(chan *snapshotChunkJob, 2*workers)
	free := make(chan []byte, 3*workers+2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error // the splitter's, read after order is closed
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		readErr = g.splitSnapshot(r, v1, jobs, order, free, stop)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				g.decodeChunk(job, v1)
				close(job.done)
			}
		}()
	}
	n, err := g.mergeChunks(order, free, size)
	close(stop)
	for range order { // let the splitter finish
	}
	wg.Wait()
	if err == nil {
		err = readErr
	}
	return n, err
}

// remaining returns how many bytes r has left to read when r can seek (a
// file), or −1. A reader that fails to seek back is an error.
func remaining(r io.Reader) (int64, error) {
	sk, ok := r.(io.Seeker)
	if !ok {
		return -1, nil
	}
	at, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1, nil // a pipe
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if _, err2 := sk.Seek(at, io.SeekStart); err2 != nil {
		return 0, fmt.Errorf("gallery: snapshot: %w", err2)
	}
	if err != nil {
		return -1, nil
	}
	return end - at, nil
}

// splitSnapshot reads the records after the magic, cuts them into chunks
// of whole records, and sends each chunk to jobs (to decode) and order (to
// merge), until the snapshot ends, is malformed, or stop closes. It
// returns the snapshot's format error, numbered.
func (g *Gallery) splitSnapshot(r io.Reader, v1 bool, jobs, order chan<- *snapshotChunkJob, free <-chan []byte, stop <-chan struct{}) error {
	var carry []byte
	first, size := 0, snapshotChunk
	var rec snapshotRecord
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
		}
		if size = max(size, 2*len(carry)); cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:cap(buf)]
		have := copy(buf, carry)
		m, err := io.ReadFull(r, buf[have:])
		have += m
		end := err != nil
		if end && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("gallery: read snapshot: %w", err)
		}
		buf = buf[:have]
		off, count := 0, 0
		var bad error
		for off < len(buf) {
			size, err := parseRecord(buf[off:], v1, &rec)
			if errors.Is(err, errShortRecord) {
				break
			} else if err != nil {
				bad = fmt.Errorf("gallery: snapshot template %d: %v", first+count, err)
				break
			}
			off += size
			count++
		}
		if bad == nil && end && off < len(buf) {
			bad = fmt.Errorf("gallery: snapshot truncated at template %d", first+count)
		}
		if bad == nil && !end && count == 0 {
			// A record longer than the chunk: read on into a larger one.
			carry = append(carry[:0], buf...)
			size = 2 * len(buf)
			continue
		}
		if count > 0 {
			job := &snapshotChunkJob{data: buf[:off], first: first, count: count, done: make(chan struct{})}
			select {
			case order <- job:
			case <-stop:
				return nil
			}
			select {
			case jobs <- job:
			case <-stop:
				close(job.done) // never decoded; the merge has stopped
				return nil
			}
		}
		first += count
		if bad != nil || end {
			return bad
		}
		carry = append(carry[:0], buf[off:]...)
		size = snapshotChunk
	}
}

// decodeChunk decodes a chunk's records into batches of their slots'
// indexes when every one of them is an engine.Loader, else into whole
// templates added one by one (so that a failing Add stops the load where
// adding each template in turn would).
func (g *Gallery) decodeChunk(job *snapshotChunkJob, v1 bool) {
	slotAt := map[engine.Slot]int{}
	var rec snapshotRecord
	loaders := true
	records, _ := recordSlices.Get().([]decodedRecord)
	records = slices.Grow(records[:0], job.count)
	var bad error // for the record after the last in records
	for off := 0; off < len(job.data); {
		size, _ := parseRecord(job.data[off:], v1, &rec) // the splitter checked it
		off += size
		m := modalityCodes[rec.head[0]]
		eng, ok := g.engines[m]
		if len(rec.id) == 0 {
			bad = huella.Errorf(huella.EINVALID, "template without subject")
			break
		} else if !ok {
			bad = huella.Errorf(huella.EUNSUPPORTED, "no engine for %s", m)
			break
		}
		key := recordSlot(&rec)
		i, ok := slotAt[key]
		if !ok {
			g.mu.Lock()
			s := g.slot(key, eng)
			g.mu.Unlock()
			i = len(job.slots)
			slotAt[key] = i
			job.slots = append(job.slots, s)
			_, ok := s.index.(engine.Loader)
			loaders = loaders && ok
		}
		same := len(records) > 0 && bytes.Equal(rec.id, records[len(records)-1].rec.id)
		records = append(records, decodedRecord{rec: rec, slot: i, same: same})
	}
	job.batches = make([]engine.Batch, len(job.slots))
	if loaders {
		// Each batch is sized once for its records: its memory becomes
		// the index's block.
		type need struct{ entries, size, held int }
		needs := make([]need, len(job.slots))
		for k := range records {
			d := &records[k]
			n := &needs[d.slot]
			n.entries++
			if job.slots[d.slot].onDemand == nil || len(d.rec.sample) == 0 {
				n.size += len(d.rec.data)
				n.held++
			}
		}
		for i, s := range job.slots {
			job.batches[i] = s.index.(engine.Loader).NewBatch(needs[i].entries, needs[i].size, needs[i].held)
		}
	}
	for k := range records {
		d := &records[k]
		if b := job.batches[d.slot]; b != nil {
			if err := b.Add(d.rec.data, job.slots[d.slot].onDemand != nil && len(d.rec.sample) > 0); err != nil {
				job.records, job.err = records[:k], err
				return
			}
		} else {
			d.t = d.rec.template()
		}
	}
	job.records, job.err = records, bad
}

// recordSlot is the slot of a record's template (engine.SlotOf).
func recordSlot(rec *snapshotRecord) engine.Slot {
	t := huella.Template{Modality: modalityCodes[rec.head[0]], Position: int(rec.head[1]), Eye: huella.EyeRight}
	if rec.head[2] == 1 {
		t.Eye = huella.EyeLeft
	}
	return engine.SlotOf(&t)
}

// mergeChunks adds the decoded chunks to the gallery in snapshot order and
// returns how many templates it added, or the first error.
//
// The indexes take each chunk's batches whole, as blocks; what is copied
// per template is the slots' bookkeeping (owner, sample ID), which, when
// the snapshot's size is known, is reserved after each chunk for what the
// part read so far projects for the whole (and a 32nd more), so that it is
// copied into once rather than regrown. A gallery empty before the load
// makes its subject map once, that size, after the first chunk.
func (g *Gallery) mergeChunks(order <-chan *snapshotChunkJob, free chan<- []byte, size int64) (int, error) {
	n := 0
	var merged int64
	g.mu.RLock()
	fresh := len(g.ids) == 0
	g.mu.RUnlock()
	project := func(held int) int {
		p := int(int64(held) * size / merged)
		return p + p/32
	}
	for job := range order {
		<-job.done
		added, err := g.mergeChunk(job)
		n += added
		merged += int64(len(job.data))
		if size > 0 && err == nil {
			g.mu.Lock()
			subjects := project(len(g.ids))
			if fresh {
				g.presize(subjects)
				fresh = false
			}
			for _, s := range job.slots {
				if _, ok := s.index.(engine.Loader); ok {
					s.reserve(project(len(s.owner)), subjects)
				}
			}
			g.mu.Unlock()
		}
		if err == nil {
			err = job.err
		}
		if err != nil {
			return n, fmt.Errorf("gallery: snapshot template %d: %w", n, err)
		}
		select {
		case free <- job.data[:0]:
		default:
		}
		clear(job.records) // no reference to the chunk's bytes or templates
		recordSlices.Put(job.records[:0])
	}
	return n, nil
}

// presize remakes the subject bookkeeping with room for subjects in all.
// The caller holds the write lock.
func (g *Gallery) presize(subjects int) {
	if subjects <= len(g.numbers) {
		return
	}
	numbers := make(map[string]int32, subjects)
	for id, n := range g.numbers {
		numbers[id] = n
	}
	g.numbers = numbers
	g.ids = reserve(g.ids, subjects)
	g.canon = reserve(g.canon, subjects)
}

// mergeChunk copies one decoded chunk into the indexes and the slots'
// bookkeeping and returns how many templates it added.
func (g *Gallery) mergeChunk(job *snapshotChunkJob) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	next := make([]int, len(job.slots)) // a Loader slot's next entry
	for i, b := range job.batches {
		if b == nil || b.Len() == 0 {
			continue
		}
		first, err := job.slots[i].index.(engine.Loader).AddBatch(b)
		if err != nil {
			return 0, err
		}
		next[i] = first
	}
	var num int32
	for k := range job.records {
		d := &job.records[k]
		s := job.slots[d.slot]
		if !d.same { // the worker compared the IDs
			var ok bool
			if num, ok = g.numbers[string(d.rec.id)]; !ok {
				num = g.number(string(d.rec.id))
			}
		}
		if d.t == nil {
			place(s, next[d.slot], num, d.rec.sample)
			next[d.slot]++
			continue
		}
		var entry int
		var err error
		if s.onDemand != nil && d.t.SampleID != "" {
			entry, err = s.onDemand.AddFirstStage(d.t.Data)
		} else {
			entry, err = s.index.Add(d.t.Data)
		}
		if err != nil {
			return k, err
		}
		place(s, entry, num, d.t.SampleID)
	}
	return len(job.records), nil
}
