package main

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// BenchmarkVideoFrame is one P frame of the synthetic stream (its FU-A
// packets built and sent) next to the reference: the bare UDP writes of
// the same packets, in the same run. CPU time per frame is reported from
// getrusage (the process, receiver goroutine included).
func BenchmarkVideoFrame(b *testing.B) {
	v, peer := videoPair(b)
	go func() {
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	now := time.Now()
	v.Tick(now)
	v.mu.Lock()
	v.tx.nextRTCP = now.Add(time.Hour)
	v.mu.Unlock()
	packets := (pFrameBytes - 1 + maxVideoPayload - 3) / (maxVideoPayload - 2)
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := benchtab.ProcessCPU()
		for b.Loop() {
			now = now.Add(frameInterval)
			v.Tick(now)
		}
		b.ReportMetric(float64(benchtab.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/frame")
	})
	b.Run("reference=raw-writes", func(b *testing.B) {
		p := make([]byte, 12+maxVideoPayload)
		b.ReportAllocs()
		cpu0 := benchtab.ProcessCPU()
		for b.Loop() {
			for range packets {
				_, _ = v.conn.WriteToUDPAddrPort(p, v.ans.Remote)
			}
		}
		b.ReportMetric(float64(benchtab.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/frame")
	})
}
