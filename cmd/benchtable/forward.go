package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// forwardPace is the traffic of forward_plain and forward_srtp: one
// source's 16-packet frames every millisecond (16 000 packets/s of 1112
// bytes, about 140 Mbit/s: the video of some 60 HD participants),
// forwarded to one receiver.
var forwardPace = pace{burst: 16, interval: time.Millisecond, seconds: 1}

// forwardBridge is the subject of forward_plain (srtp false) and
// forward_srtp: a real bridge and SIP server in this process, two SIP
// calls placed through real dialogs (sipgo, on 127.0.0.1) — a source whose
// H.264 this harness sends from a bare UDP socket, and a receiver whose
// video a bare UDP socket drains — with SRTP (AEAD_AES_128_GCM) on both
// legs when srtp is set. A round's work is the packets that reached the
// receiver; its CPU is the process's minus the harness's sender and drain
// threads'.
func forwardBridge(srtp bool, p pace) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		r, err := startVideoRoom(ctx, srtp, 1)
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer r.Close()
		src, dst, in, out := r.src, r.dst, r.in, r.outs[0]
		fill, err := packetFiller(p.burst, in.OurKey)
		if err != nil {
			return benchtab.Sample{}, err
		}
		s := newSender(src, fill, in.Bridge)
		next, err := warmUp(ctx, s, dst, p, 1, out.BridgeKey)
		if err != nil {
			return benchtab.Sample{}, err
		}
		w, err := measureWindow(s, dst, p, next, p.packets(size), 1)
		if err != nil {
			return benchtab.Sample{}, err
		}
		return benchtab.Sample{Work: float64(w.got), CPU: w.cpu}, nil
	}
}

// forwardEcho is the reference of forward_plain and forward_srtp: the
// same traffic through a batched raw UDP echo in this process (recvmmsg
// and sendmmsg of up to 32 datagrams, golang.org/x/net/ipv4), measured
// the same way.
func forwardEcho(p pace) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		var conns [3]*net.UDPConn
		for i := range conns {
			c, err := listenUDP()
			if err != nil {
				closeAll(conns[:i]...)
				return benchtab.Sample{}, err
			}
			conns[i] = c
		}
		src, mid, dst := conns[0], conns[1], conns[2]
		wait := echo(mid, addrOf(dst))
		defer func() {
			closeAll(src, mid, dst)
			wait()
		}()
		fill, _ := packetFiller(p.burst, nil)
		s := newSender(src, fill, addrOf(mid))
		next, err := warmUp(ctx, s, dst, p, 1, nil)
		if err != nil {
			return benchtab.Sample{}, err
		}
		w, err := measureWindow(s, dst, p, next, p.packets(size), 1)
		if err != nil {
			return benchtab.Sample{}, err
		}
		return benchtab.Sample{Work: float64(w.got), CPU: w.cpu}, nil
	}
}

// packetFiller writes the stream's packets, protected under key
// (AEAD_AES_128_GCM key‖salt) when key is not nil.
func packetFiller(burst int, key []byte) (func(i int, buf []byte) ([]byte, error), error) {
	if key == nil {
		return func(i int, buf []byte) ([]byte, error) { return videoPacket(i, burst, buf), nil }, nil
	}
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, 2048)
	return func(i int, buf []byte) ([]byte, error) {
		return c.EncryptRTP(buf[:0], videoPacket(i, burst, plain), nil)
	}, nil
}

// warmUp sends frames, the first an IDR, until each of the receivers at
// dst has had a packet (they switch to the source at its IDR), and
// returns the number of the next packet to send. With bridgeKey, the
// first packet to arrive must authenticate under it (AEAD_AES_128_GCM):
// the leg out is really SRTP.
func warmUp(ctx context.Context, s *sender, dst *net.UDPConn, p pace, receivers int, bridgeKey []byte) (int, error) {
	next := 0
	sendFrame := func() error {
		_, err := s.run(pace{burst: p.burst, interval: time.Millisecond}, next, p.burst)
		next += p.burst
		return err
	}
	if bridgeKey != nil {
		if err := sendFrame(); err != nil {
			return 0, err
		}
		if err := checkSRTP(dst, bridgeKey); err != nil {
			return 0, err
		}
	}
	d := startDrain(dst)
	defer d.stop()
	deadline := time.Now().Add(10 * time.Second)
	for d.got.Load() < int64(receivers) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("gave up after 10s waiting for the video to reach %d receivers (%d packets arrived)", receivers, d.got.Load())
		}
		if err := sendFrame(); err != nil {
			return 0, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return next, nil
}

// checkSRTP reads what arrives at dst until an RTP packet comes and checks
// that it authenticates and decrypts under key.
func checkSRTP(dst *net.UDPConn, key []byte) error {
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		return err
	}
	buf := make([]byte, 2048)
	_ = dst.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = dst.SetReadDeadline(time.Time{}) }()
	for {
		n, _, err := dst.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("no video at the SRTP receiver: %w", err)
		}
		if n >= 2 && buf[1]&0x7f >= 72 && buf[1]&0x7f <= 79 {
			continue // RTCP (RFC 5761 §4): not what we check
		}
		if _, err := c.DecryptRTP(nil, buf[:n], nil); err != nil {
			return fmt.Errorf("the bridge's video is not SRTP AEAD_AES_128_GCM under its answered key: %w", err)
		}
		return nil
	}
}

// window is one measured stretch of a harness.
type window struct {
	got  int64         // packets the drain received
	cpu  time.Duration // the forwarder's CPU: the process's minus the harness's threads'
	wall time.Duration
}

// measureWindow sends packets packets from first, paced by p, and waits
// for the fanout copies of each at dst.
func measureWindow(s *sender, dst *net.UDPConn, p pace, first, packets, fanout int) (window, error) {
	d := startDrain(dst)
	t0 := time.Now()
	cpu0 := benchtab.ProcessCPU()
	sendCPU, err := s.run(p, first, packets)
	if err != nil {
		d.stop()
		return window{}, err
	}
	got := d.settle(int64(packets * fanout))
	drainCPU := d.stop()
	w := window{got: got, cpu: cpuOf(benchtab.ProcessCPU()-cpu0, sendCPU, drainCPU), wall: time.Since(t0)}
	if got == 0 {
		return w, errors.New("nothing was forwarded")
	}
	return w, nil
}

// idleWindow measures the forwarder's CPU over d while nothing is sent
// (its timers, the mixer of its rooms).
func idleWindow(dst *net.UDPConn, d time.Duration) window {
	dr := startDrain(dst)
	cpu0 := benchtab.ProcessCPU()
	time.Sleep(d)
	drainCPU := dr.stop()
	return window{got: dr.got.Load(), cpu: benchtab.ProcessCPU() - cpu0 - drainCPU, wall: d}
}
