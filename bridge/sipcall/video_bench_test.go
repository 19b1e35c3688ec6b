package sipcall

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/bridge/video"
)

// benchVideoLeg is a bridge leg around a bare video session: the SIP
// dialog plays no part in forwarding.
type benchVideoLeg struct{ v *videoSession }

func (l benchVideoLeg) Info() bridge.LegInfo                            { return bridge.LegInfo{Protocol: bridge.ProtocolSIP} }
func (l benchVideoLeg) AudioCodec() media.AudioCodec                    { return media.PCMU }
func (l benchVideoLeg) SendAudio([]byte)                                {}
func (l benchVideoLeg) Hangup(bridge.EndReason, int)                    {}
func (l benchVideoLeg) Quality() bridge.Quality                         { return bridge.Quality{} }
func (l benchVideoLeg) VideoMode() bridge.VideoMode                     { return bridge.VideoSwitched }
func (l benchVideoLeg) SendVideo(_ bridge.ParticipantID, p *rtp.Packet) { l.v.send(p) }
func (l benchVideoLeg) RequestKeyframe()                                { l.v.requestKeyframe() }

// sink is a bound UDP socket nobody reads: what is sent to it is written
// by the kernel and dropped.
func sink(b *testing.B) netip.AddrPort {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BenchmarkVideoFanout measures the SIP forwarding path for one source's
// H.264 packet (1100 bytes) fanned out to 1, 10 and 100 SIP receivers
// through the real bridge: parse at the source's session, route and
// rewrite in the bridge, header and UDP write per receiver. The
// reference, in the same run, is a raw Go UDP relay: copy the packet and
// write it to each receiver. Neither includes the read syscall. Both report
// packets/s of the source and allocs/op (0 for both in steady state). The
// SRTP runs encrypt for each receiver under its own key
// (AES_CM_128_HMAC_SHA1_80); the source's decryption is not included.
func BenchmarkVideoFanout(b *testing.B) {
	payload := make([]byte, 1100)
	payload[0] = 0x41 // a non-IDR slice
	for _, n := range []int{1, 10, 100} {
		dst := sink(b)
		b.Run(fmt.Sprintf("reference: raw UDP relay to %d", n), func(b *testing.B) {
			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			in := make([]byte, 12+len(payload))
			putRTP(in, rtpHeader{PT: 96, SSRC: 1})
			copy(in[12:], payload)
			out := make([]byte, maxPacket)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				m := copy(out, in)
				for range n {
					_, _ = conn.WriteToUDPAddrPort(out[:m], dst)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pkts/s")
		})
		b.Run(fmt.Sprintf("bridge to %d SIP receivers", n), func(b *testing.B) { benchFanout(b, n, dst, payload, false) })
		b.Run(fmt.Sprintf("bridge to %d SRTP receivers", n), func(b *testing.B) { benchFanout(b, n, dst, payload, true) })
	}
}

// benchFanout is one run of BenchmarkVideoFanout through the bridge, to n
// receivers at dst, SRTP when keyed.
func benchFanout(b *testing.B, n int, dst netip.AddrPort, payload []byte, keyed bool) {
	br := bridge.New(bridge.Config{}, bridge.Deps{Resolver: bridge.ResolverFunc(func(context.Context, string) (bridge.RoomInfo, error) {
		return testRoom, nil
	})})
	defer br.Close()
	pool := testPool(b, n+1)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	var src *bridge.Participant
	open := func(remote netip.AddrPort, ev videoEvents) *videoSession {
		m := videoMedia{PT: 96, Remote: remote, RemoteRTCP: remote, Direction: sendRecv}
		cfg := mediaConfig{RTCPInterval: time.Hour}
		if keyed && src != nil {
			cfg.Crypto = benchCrypto(b)
		}
		v, err := newVideoSession(pool, cfg, video.DefaultCeiling, m, ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(v.close)
		p, err := br.Admit(b.Context(), testRoom, benchVideoLeg{v})
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, "a leg to join", p.Joined)
		if src == nil {
			src = p
		}
		return v
	}
	source := open(from, videoEvents{packet: func(pkt *rtp.Packet) { src.ReceiveVideo(pkt) }})
	for range n {
		open(dst, videoEvents{})
	}
	in := make([]byte, 12+len(payload))
	putRTP(in, rtpHeader{PT: 96, Seq: 0, SSRC: 1})
	copy(in[12:], []byte{0x65, 0x88}) // an IDR: every receiver switches to the source
	source.handleRTP(in[:14], from)
	copy(in[12:], payload)
	b.ReportAllocs()
	start := time.Now()
	for i := 1; b.Loop(); i++ {
		putRTP(in, rtpHeader{PT: 96, Seq: uint16(i), TS: uint32(i / 4 * 3000), SSRC: 1})
		source.handleRTP(in, from)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pkts/s")
}

// benchCrypto is an SRTP layer under fresh keys.
func benchCrypto(b *testing.B) mediaCrypto {
	suite, _ := suiteByName("AES_CM_128_HMAC_SHA1_80")
	local, err := newMasterKey(suite)
	if err != nil {
		b.Fatal(err)
	}
	remote, err := newMasterKey(suite)
	if err != nil {
		b.Fatal(err)
	}
	c, err := cryptoFor(&sdesKeys{Tag: 1, Suite: suite, Local: local, Remote: []sdesKey{{Material: remote}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
