package sipcall

import (
	"net/netip"
	"testing"
	"time"
)

func TestUntilPhase(t *testing.T) {
	const period = 20 * time.Millisecond
	mark := time.Unix(1_700_000_000, 0) // a multiple of 20 ms since the epoch
	tests := []struct {
		name   string
		now    time.Time
		offset time.Duration
		want   time.Duration
	}{
		{"on a mark, the next mark is a period away", mark, 0, period},
		{"just after a mark, nearly a period", mark.Add(time.Millisecond), 0, 19 * time.Millisecond},
		{"2 ms before the marks, seen from a mark", mark, -2 * time.Millisecond, 18 * time.Millisecond},
		{"2 ms before the marks, seen from 1 ms before a mark", mark.Add(-time.Millisecond), -2 * time.Millisecond, 19 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := untilPhase(tt.now, period, tt.offset); got != tt.want {
				t.Errorf("untilPhase = %v, want %v", got, tt.want)
			}
		})
	}
}

// A datagram sent through an audio socket arrives from the socket's port,
// with the kernel's arrival stamp, and a closed socket refuses to send.
func TestAudioSocketRoundTrip(t *testing.T) {
	host := netip.MustParseAddr("127.0.0.1")
	a, err := openAudioSocket(host, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	port := freePort(t)
	b, err := openAudioSocket(host, port)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	var to sockaddr
	before := time.Now()
	if err := a.writeTo([]byte("hello"), netip.AddrPortFrom(host, uint16(port)), &to); err != nil {
		t.Fatal(err)
	}
	var rx rxBatch
	var n int
	waitFor(t, "the datagram to reach the receiving socket", func() bool {
		n, err = rx.read(b)
		return err != nil || n > 0
	})
	if err != nil || n != 1 {
		t.Fatalf("read %d datagrams (%v), want 1", n, err)
	}
	d := rx.datagram(0)
	if string(d.b) != "hello" || d.from.Addr() != host {
		t.Errorf("got %q from %v, want \"hello\" from 127.0.0.1", d.b, d.from)
	}
	if d.at.Before(before.Add(-time.Second)) || d.at.After(time.Now().Add(time.Second)) {
		t.Errorf("arrival stamp %v is not about now (%v)", d.at, before)
	}
	a.close()
	if err := a.writeTo([]byte("late"), netip.AddrPortFrom(host, uint16(port)), &to); err == nil {
		t.Error("a closed socket sent a datagram")
	}
}
