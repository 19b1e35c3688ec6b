package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// webrtcLeg is the subject of webrtc_leg: a real bridge with its WebRTC
// server in this process and two peers of `bifrost-load webrtc --video`
// in a child process (whose CPU is not counted), each sending Opus and a
// 1 Mbit/s H.264 camera. In the steady state, the bridge process's CPU
// time per packet its WebRTC legs delivered to the peers (the mix and the
// other peer's video). Per delivered packet the bridge decrypts one
// packet (SRTP) and encrypts one, as the reference does; what it does
// besides (the mixer, the router, the interceptors) is the leg's cost.
func webrtcLeg(t *tools, seconds float64) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		w, err := startWebRTCBridge()
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer w.Close()
		peers, err := startPeers(ctx, t, w, "--peers", "2", "--video")
		if err != nil {
			return benchtab.Sample{}, err
		}
		if err := waitFor(ctx, 30*time.Second, "two WebRTC peers receiving each other's video", func() bool {
			sent, _ := w.srv.Packets()
			return w.joined() == 2 && sent > 1000
		}); err != nil {
			_ = peers.cmd.Process.Kill()
			_ = peers.wait()
			return benchtab.Sample{}, err
		}
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		sent0, _ := w.srv.Packets()
		cpu0 := benchtab.ProcessCPU()
		time.Sleep(d) // the window: the bridge works, this goroutine sleeps
		cpu1 := benchtab.ProcessCPU()
		sent1, _ := w.srv.Packets()
		if err := stopPeers(peers); err != nil {
			return benchtab.Sample{}, err
		}
		if sent1 <= sent0 {
			return benchtab.Sample{}, fmt.Errorf("the WebRTC legs delivered nothing in %s", d)
		}
		return benchtab.Sample{Work: float64(sent1 - sent0), CPU: max(cpu1-cpu0, 1)}, nil
	}
}

// barePeerConnections is the reference of webrtc_leg: two bare pion
// PeerConnections in this process (pion's default codecs and
// interceptors), one sending the stream one peer of the subject sends
// (Opus and the 1 Mbit/s H.264 camera, paced in real time), the other
// receiving it; the process's CPU per packet received.
func barePeerConnections(seconds float64) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		api, err := pionAPI()
		if err != nil {
			return benchtab.Sample{}, err
		}
		p, err := newBarePair(ctx, api, true)
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer p.Close()
		s := newRTPStream()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		// Warm up as the subject does: until packets flow.
		for p.received.Load() < 200 {
			select {
			case <-ctx.Done():
				return benchtab.Sample{}, ctx.Err()
			case <-tick.C:
				s.tick(p.audio, p.video)
			}
		}
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		recv0, cpu0 := p.received.Load(), benchtab.ProcessCPU()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			select {
			case <-ctx.Done():
				return benchtab.Sample{}, ctx.Err()
			case <-tick.C:
				s.tick(p.audio, p.video)
			}
		}
		cpu1, recv1 := benchtab.ProcessCPU(), p.received.Load()
		if recv1 <= recv0 {
			return benchtab.Sample{}, fmt.Errorf("the bare PeerConnection received nothing in %s", d)
		}
		return benchtab.Sample{Work: float64(recv1 - recv0), CPU: max(cpu1-cpu0, 1)}, nil
	}
}
