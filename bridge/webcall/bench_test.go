package webcall

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge"
)

// partOf returns the bridge participant of the browser whose ID is id.
func (r *rig) partOf(t testing.TB, id string) *bridge.Participant {
	t.Helper()
	var found *bridge.Participant
	eventually(t, 5*time.Second, "the session of "+id, func() bool {
		r.srv.mu.Lock()
		defer r.srv.mu.Unlock()
		for _, m := range r.srv.byConf {
			for se := range m {
				if string(se.part.ID()) == id {
					found = se.part
					return true
				}
			}
		}
		return false
	})
	return found
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPayload is a 1,200-byte non-IDR H.264 slice: a typical video packet.
var benchPayload = func() []byte {
	p := make([]byte, 1200)
	p[0] = 0x41
	return p
}()

// BenchmarkBrowserFanout measures one browser source's video packet fanned
// out by the bridge's router to N browser subscribers (pion peers on
// loopback, DTLS-SRTP): the op is one source packet, handed in through
// Participant.ReceiveVideo, which returns once every subscriber's leg has
// encrypted and sent it. Next to it, the reference measured in the same
// run: the same packet marshalled and sent as plain RTP over UDP to N
// sockets, the SIP legs' forwarding path without the router's rewriting.
// pkts/s is subscriber packets per second; cpu-µs/sub-pkt is the process's
// CPU time (which includes the pion subscribers decrypting) per subscriber
// packet.
func BenchmarkBrowserFanout(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("reference: plain RTP over UDP to %d", n), func(b *testing.B) {
			conns := make([]*net.UDPConn, n)
			for i := range conns {
				c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				go func() {
					buf := make([]byte, 1500)
					for {
						if _, err := c.Read(buf); err != nil {
							return
						}
					}
				}()
				conns[i] = c
			}
			out, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 102, SSRC: 1}, Payload: benchPayload}
			buf := make([]byte, 1500)
			b.ReportAllocs()
			cpu0, t0 := cpuTime(), time.Now()
			for i := 0; b.Loop(); i++ {
				pkt.SequenceNumber = uint16(i)
				for _, c := range conns {
					m, _ := pkt.MarshalTo(buf)
					_, _ = out.WriteToUDP(buf[:m], c.LocalAddr().(*net.UDPAddr))
				}
			}
			report(b, n, cpu0, t0)
		})
		b.Run(fmt.Sprintf("webcall to %d browsers", n), func(b *testing.B) {
			r := newRig(b, Config{}, testRoom)
			src := dial(b, r, "1234")
			src.quiet = true
			src.join("source", "", 0)
			subs := make([]*client, n)
			for i := range subs {
				subs[i] = dial(b, r, "1234")
				subs[i].quiet = true
				subs[i].join(fmt.Sprintf("sub%d", i), "", 0)
			}
			p := r.partOf(b, src.id)
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptH264, SSRC: 1}, Payload: benchPayload}
			seq := uint16(0)
			eventually(b, 30*time.Second, "every subscriber to receive the source", func() bool {
				seq++
				pkt.SequenceNumber = seq
				p.ReceiveVideo(&pkt)
				for _, s := range subs {
					if _, _, _, streams, _ := s.snapshot(); streams[src.id] == 0 {
						return false
					}
				}
				return true
			})
			b.ReportAllocs()
			cpu0, t0 := cpuTime(), time.Now()
			for b.Loop() {
				seq++
				pkt.SequenceNumber = seq
				p.ReceiveVideo(&pkt)
			}
			report(b, n, cpu0, t0)
		})
	}
}

func report(b *testing.B, n int, cpu0 time.Duration, t0 time.Time) {
	elapsed := time.Since(t0)
	sent := float64(b.N) * float64(n)
	b.ReportMetric(sent/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/sent, "cpu-µs/sub-pkt")
}
