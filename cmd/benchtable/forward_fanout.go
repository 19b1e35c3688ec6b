package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// fanoutPace is the source of fanout_marginal: one HD participant's
// video, 8-packet frames at 30 frames/s.
var fanoutPace = pace{burst: 8, interval: time.Second / 30, seconds: 1}

// fanoutBridge is the subject of fanout_marginal: a real bridge and SIP
// server in this process with one source and n SIP receivers (real
// dialogs, as forwardBridge; every receiver's video goes to one drained
// socket). A round measures four windows: the source sending to n
// receivers and the room idle for as long, then, after n-1 receivers hung
// up, the same with one. The extra CPU per extra subscriber packet is
// ((sendN - idleN)/packetsN - (send1 - idle1)/packets1) / (n-1): the idle
// windows take out what the participants cost without video (their
// mixer, their timers).
func fanoutBridge(n int, p pace) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		r, err := startVideoRoom(ctx, false, n)
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer r.Close()
		src, dst, in, outs, ua, tb := r.src, r.dst, r.in, r.outs, r.ua, r.tb
		fill, _ := packetFiller(p.burst, nil)
		s := newSender(src, fill, in.Bridge)
		next, err := warmUp(ctx, s, dst, p, n, nil)
		if err != nil {
			return benchtab.Sample{}, err
		}
		packets := p.packets(size)
		perPacket := func(receivers int) (float64, error) {
			w, err := measureWindow(s, dst, p, next, packets, receivers)
			if err != nil {
				return 0, err
			}
			next += packets
			idle := idleWindow(dst, w.wall)
			return (w.cpu - idle.cpu).Seconds() / float64(packets), nil
		}
		costN, err := perPacket(n)
		if err != nil {
			return benchtab.Sample{}, err
		}
		for _, o := range outs[1:] {
			ua.hangup(o)
		}
		outs = outs[:1]
		r.outs = outs // the others are hung up already
		if err := waitFor(ctx, 30*time.Second, "n-1 receivers to leave", func() bool { return tb.participants() == 2 }); err != nil {
			return benchtab.Sample{}, err
		}
		cost1, err := perPacket(1)
		if err != nil {
			return benchtab.Sample{}, err
		}
		work := float64((n - 1) * packets)
		return benchtab.Sample{Work: work, CPU: max(time.Duration((costN-cost1)*float64(packets)*float64(time.Second)), time.Nanosecond)}, nil
	}
}

// sendmmsgCost is the reference of fanout_marginal: the same packets to
// the same number of destinations, sent by a raw sendmmsg loop (32
// datagrams per call) at the same pace, CPU per datagram sent (the drain
// not counted).
func sendmmsgCost(n int, p pace) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		src, err := listenUDP()
		if err != nil {
			return benchtab.Sample{}, err
		}
		dst, err := listenUDP()
		if err != nil {
			src.Close()
			return benchtab.Sample{}, err
		}
		defer closeAll(src, dst)
		fill, _ := packetFiller(p.burst, nil)
		dsts := make([]*net.UDPAddr, n)
		for i := range dsts {
			dsts[i] = net.UDPAddrFromAddrPort(addrOf(dst))
		}
		s := newSender(src, fill)
		s.dsts = dsts
		packets := p.packets(size)
		d := startDrain(dst)
		cpu0 := benchtab.ProcessCPU()
		if _, err := s.run(p, 1, packets); err != nil {
			d.stop()
			return benchtab.Sample{}, err
		}
		got := d.settle(int64(packets * n))
		drainCPU := d.stop()
		if got == 0 {
			return benchtab.Sample{}, fmt.Errorf("nothing arrived")
		}
		return benchtab.Sample{Work: float64(got), CPU: cpuOf(benchtab.ProcessCPU()-cpu0, drainCPU)}, nil
	}
}
