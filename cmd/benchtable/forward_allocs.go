package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// allocsRuns is how many packets a full round of allocs_per_packet
// forwards one by one.
const allocsRuns = 2000

// allocsBridge is the subject of allocs_per_packet: the bridge of
// forwardBridge (two SIP calls, SRTP on both legs when srtp is set), and
// testing.AllocsPerRun over forwarding one packet — sent from the
// harness's socket, received by the source leg, routed, rewritten,
// protected and sent by the receiver leg, read at the harness's socket.
// The count is the whole process's heap allocations while the packet
// travels (the harness's own part allocates nothing), so anything else the
// bridge does meanwhile (its mixer, its timers) counts too: an upper
// bound of the path's own.
func allocsBridge(srtp bool) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		r, err := startVideoRoom(ctx, srtp, 1)
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer r.Close()
		src, dst, in, out := r.src, r.dst, r.in, r.outs[0]
		const burst = 8
		fill, err := packetFiller(burst, in.OurKey)
		if err != nil {
			return benchtab.Sample{}, err
		}
		s := newSender(src, fill, in.Bridge)
		next, err := warmUp(ctx, s, dst, pace{burst: burst, interval: time.Millisecond}, 1, out.BridgeKey)
		if err != nil {
			return benchtab.Sample{}, err
		}
		// Every packet is built (and protected) before the count starts.
		runs := max(20, int(allocsRuns*size))
		pkts := make([][]byte, runs+1)
		for i := range pkts {
			if pkts[i], err = fill(next+i, make([]byte, 2048)); err != nil {
				return benchtab.Sample{}, err
			}
		}
		to := in.Bridge
		buf := make([]byte, 2048)
		_ = dst.SetReadDeadline(time.Now().Add(30 * time.Second))
		defer func() { _ = dst.SetReadDeadline(time.Time{}) }()
		var i int
		var failed error
		allocs := testing.AllocsPerRun(runs, func() {
			if failed != nil {
				return
			}
			if _, err := src.WriteToUDPAddrPort(pkts[i], to); err != nil {
				failed = err
				return
			}
			i++
			for {
				n, _, err := dst.ReadFromUDPAddrPort(buf)
				if err != nil {
					failed = fmt.Errorf("packet %d not forwarded: %w", i, err)
					return
				}
				if n >= 2 && buf[1]&0x7f >= 72 && buf[1]&0x7f <= 79 {
					continue // RTCP (RFC 5761 §4)
				}
				return
			}
		})
		if failed != nil {
			return benchtab.Sample{}, failed
		}
		return benchtab.Sample{Work: float64(runs), Count: allocs * float64(runs)}, nil
	}
}
