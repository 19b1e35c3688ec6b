package directory

import (
	"regexp"
	"testing"
	"time"
)

func TestIDSeqIsOrderedUUIDv7(t *testing.T) {
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	s := newIDSeq(at)
	v7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	prev := ""
	for i := 0; i < 10000; i++ {
		id := s.next()
		if !v7.MatchString(id) {
			t.Fatalf("ID %d %q is not a UUIDv7", i, id)
		}
		if id <= prev {
			t.Fatalf("ID %d %q does not sort after %q", i, id, prev)
		}
		prev = id
	}
	// The first 48 bits are the time in Unix milliseconds.
	if ms := at.UnixMilli(); prev[:8]+prev[9:13] != hex48(ms) {
		t.Errorf("timestamp bits %s, want %s", prev[:8]+prev[9:13], hex48(ms))
	}
	if a, b := newIDSeq(at).next(), newIDSeq(at).next(); a == b {
		t.Errorf("two runs made the same first ID %s", a)
	}
}

func hex48(ms int64) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 12)
	for i := 11; i >= 0; i-- {
		out[i] = digits[ms&0xf]
		ms >>= 4
	}
	return string(out)
}
