package huella

import (
	"crypto/rand"
	"time"
)

// crockford is the Crockford base-32 alphabet: no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a new identifier: prefix, then 26 base-32 characters, ten of
// millisecond time and sixteen of 80 random bits (the ULID layout), so that
// IDs from every site sort by creation time without coordination.
func NewID(prefix string, now time.Time) string {
	var random [10]byte
	if _, err := rand.Read(random[:]); err != nil {
		panic("huella: crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
	}
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	id := out[len(prefix):]
	encode5(id[:10], uint64(now.UnixMilli()))
	encode5(id[10:18], uint64(random[0])<<32|uint64(random[1])<<24|uint64(random[2])<<16|uint64(random[3])<<8|uint64(random[4]))
	encode5(id[18:26], uint64(random[5])<<32|uint64(random[6])<<24|uint64(random[7])<<16|uint64(random[8])<<8|uint64(random[9]))
	return string(out)
}

// encode5 writes v in base 32, most significant character first, filling dst.
func encode5(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = crockford[v&31]
		v >>= 5
	}
}
