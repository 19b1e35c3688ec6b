package webcall

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	sr := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	lsr := ntpMiddle(sr)
	dlsr := uint32(65536 / 2) // the receiver held it 500 ms
	arrival := sr.Add(500*time.Millisecond + 40*time.Millisecond)
	rtt, ok := roundTrip(arrival, lsr, dlsr)
	if !ok || rtt < 39*time.Millisecond || rtt > 41*time.Millisecond {
		t.Errorf("roundTrip = %v, %v; want 40 ms", rtt, ok)
	}
	if _, ok := roundTrip(arrival, 0, 0); ok {
		t.Error("a report without an SR gave a round trip")
	}
	if _, ok := roundTrip(sr, lsr, dlsr); ok {
		t.Error("a report that came back before it left gave a round trip")
	}
}
