package jpeg2000

// mqState is one row of the MQ coder's probability estimation table
// (ITU-T T.800 Table C.2).
type mqState struct {
	qe         uint32
	nmps, nlps uint8
	swap       bool
}

var mqTable = [47]mqState{
	{0x5601, 1, 1, true}, {0x3401, 2, 6, false}, {0x1801, 3, 9, false}, {0x0AC1, 4, 12, false},
	{0x0521, 5, 29, false}, {0x0221, 38, 33, false}, {0x5601, 7, 6, true}, {0x5401, 8, 14, false},
	{0x4801, 9, 14, false}, {0x3801, 10, 14, false}, {0x3001, 11, 17, false}, {0x2401, 12, 18, false},
	{0x1C01, 13, 20, false}, {0x1601, 29, 21, false}, {0x5601, 15, 14, true}, {0x5401, 16, 14, false},
	{0x5101, 17, 15, false}, {0x4801, 18, 16, false}, {0x3801, 19, 17, false}, {0x3401, 20, 18, false},
	{0x3001, 21, 19, false}, {0x2801, 22, 19, false}, {0x2401, 23, 20, false}, {0x2201, 24, 21, false},
	{0x1C01, 25, 22, false}, {0x1801, 26, 23, false}, {0x1601, 27, 24, false}, {0x1401, 28, 25, false},
	{0x1201, 29, 26, false}, {0x1101, 30, 27, false}, {0x0AC1, 31, 28, false}, {0x09C1, 32, 29, false},
	{0x08A1, 33, 30, false}, {0x0521, 34, 31, false}, {0x0441, 35, 32, false}, {0x02A1, 36, 33, false},
	{0x0221, 37, 34, false}, {0x0141, 38, 35, false}, {0x0111, 39, 36, false}, {0x0085, 40, 37, false},
	{0x0049, 41, 38, false}, {0x0025, 42, 39, false}, {0x0015, 43, 40, false}, {0x0009, 44, 41, false},
	{0x0005, 45, 42, false}, {0x0001, 45, 43, false}, {0x5601, 46, 46, false},
}

// mqDecoder is the MQ arithmetic decoder (T.800 Annex C.3) with its
// context states.
type mqDecoder struct {
	data  []byte
	pos   int
	a, c  uint32
	ct    int
	state [19]uint8
	mps   [19]uint8
}

func (d *mqDecoder) byteAt(i int) uint32 {
	if i < len(d.data) {
		return uint32(d.data[i])
	}
	return 0xFF
}

// init starts decoding data (INITDEC).
func (d *mqDecoder) init(data []byte) {
	d.data, d.pos = data, 0
	d.c = d.byteAt(0) << 16
	d.byteIn()
	d.c <<= 7
	d.ct -= 7
	d.a = 0x8000
}

// resetContexts sets every context to its initial state.
func (d *mqDecoder) resetContexts() {
	for i := range d.state {
		d.state[i], d.mps[i] = 0, 0
	}
	d.state[ctxUniform] = 46
	d.state[ctxRunLength] = 3
	d.state[0] = 4
}

func (d *mqDecoder) byteIn() {
	if d.byteAt(d.pos) == 0xFF {
		if b := d.byteAt(d.pos + 1); b > 0x8F {
			d.c += 0xFF00
			d.ct = 8
		} else {
			d.pos++
			d.c += b << 9
			d.ct = 7
		}
	} else {
		d.pos++
		d.c += d.byteAt(d.pos) << 8
		d.ct = 8
	}
}

// decode returns the next decision in context cx (DECODE).
func (d *mqDecoder) decode(cx int) int {
	st := &mqTable[d.state[cx]]
	qe := st.qe
	var bit int
	d.a -= qe
	if d.c>>16 < qe {
		// LPS exchange
		if d.a < qe {
			d.a = qe
			bit = int(d.mps[cx])
			d.state[cx] = st.nmps
		} else {
			d.a = qe
			bit = 1 - int(d.mps[cx])
			if st.swap {
				d.mps[cx] = 1 - d.mps[cx]
			}
			d.state[cx] = st.nlps
		}
		d.renorm()
		return bit
	}
	d.c -= qe << 16
	if d.a&0x8000 != 0 {
		return int(d.mps[cx])
	}
	// MPS exchange
	if d.a < qe {
		bit = 1 - int(d.mps[cx])
		if st.swap {
			d.mps[cx] = 1 - d.mps[cx]
		}
		d.state[cx] = st.nlps
	} else {
		bit = int(d.mps[cx])
		d.state[cx] = st.nmps
	}
	d.renorm()
	return bit
}

func (d *mqDecoder) renorm() {
	for {
		if d.ct == 0 {
			d.byteIn()
		}
		d.a <<= 1
		d.c <<= 1
		d.ct--
		if d.a&0x8000 != 0 {
			return
		}
	}
}
