package bridge

import (
	"context"
	"testing"
)

// BenchmarkReceiveAudio measures the bridge's share of the per-packet path
// (Participant.ReceiveAudio into the mixer port) against a direct call of the
// port, the reference. Both must report 0 allocs/op.
func BenchmarkReceiveAudio(b *testing.B) {
	h := newHarness(b, Config{})
	leg := &fakeLeg{info: LegInfo{Protocol: ProtocolSIP}}
	p, err := h.b.Admit(context.Background(), openRoom(), leg)
	if err != nil {
		b.Fatal(err)
	}
	waitFor(b, "the caller to join the mix", p.Joined)
	payload := make([]byte, 160)
	port := h.mixer(0).port(p.ID())
	b.Run("reference: direct port push", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			port.Push(uint16(i), uint32(i*160), payload)
		}
	})
	b.Run("Participant.ReceiveAudio", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p.ReceiveAudio(uint16(i), uint32(i*160), payload)
		}
	})
}
