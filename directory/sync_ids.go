package directory

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// idSeq makes the IDs of the entries one sync run adds: UUIDv7 (RFC 9562
// §5.7) with monotonic random bits (§6.2, method 2) — the run's start in
// Unix milliseconds, 12 random bits, and a 62-bit counter that starts at a
// random value and counts up. IDs made later sort after earlier ones, so a
// run's 100 000 new entries, and their 400 000 addresses (keyed by entry ID),
// go into the right edge of the primary key indexes instead of random pages
// all over them: about a third less database CPU for the addresses, measured.
// The IDs are not secrets; every lookup is scoped to the organisation.
type idSeq struct {
	hi  uint64 // 48-bit timestamp, version 7, 12 random bits
	ctr uint64 // the 62 bits after the variant
}

func newIDSeq(now time.Time) *idSeq {
	var b [10]byte
	_, _ = rand.Read(b[:])
	ms := uint64(now.UnixMilli()) & (1<<48 - 1)
	hi := ms<<16 | 0x7<<12 | uint64(binary.BigEndian.Uint16(b[:2]))&0x0fff
	// Start in the lower half of the counter's range: 2^61 IDs before it
	// could wrap.
	ctr := binary.BigEndian.Uint64(b[2:]) & (1<<61 - 1)
	return &idSeq{hi: hi, ctr: ctr}
}

// next returns the next ID in its text form.
func (s *idSeq) next() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], s.hi)
	binary.BigEndian.PutUint64(b[8:], s.ctr&(1<<62-1)|1<<63) // variant 10
	s.ctr++
	var h [36]byte
	hex.Encode(h[0:8], b[0:4])
	h[8] = '-'
	hex.Encode(h[9:13], b[4:6])
	h[13] = '-'
	hex.Encode(h[14:18], b[6:8])
	h[18] = '-'
	hex.Encode(h[19:23], b[8:10])
	h[23] = '-'
	hex.Encode(h[24:], b[10:])
	return string(h[:])
}
