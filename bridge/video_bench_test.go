package bridge

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// benchVideoLeg is a VideoSwitched leg that keeps only what the benchmarks
// measure: the source of the last packet, sequence gaps, and keyframe
// requests (an encoder that answers one with an IDR on its next frame).
type benchVideoLeg struct {
	fakeLeg
	mu        sync.Mutex
	last      ParticipantID
	lastSeq   uint16
	started   bool
	gaps      int
	packets   int
	wantIDR   bool
	keyframes int
}

func (l *benchVideoLeg) VideoMode() VideoMode { return VideoSwitched }
func (l *benchVideoLeg) SendVideo(source ParticipantID, pkt *rtp.Packet) {
	l.mu.Lock()
	if l.started && pkt.SequenceNumber != l.lastSeq+1 {
		l.gaps++
	}
	l.started, l.lastSeq, l.last = true, pkt.SequenceNumber, source
	l.packets++
	l.mu.Unlock()
}
func (l *benchVideoLeg) RequestKeyframe() {
	l.mu.Lock()
	l.wantIDR = true
	l.keyframes++
	l.mu.Unlock()
}

// takeIDR reports whether the leg's encoder owes a keyframe, and clears it.
func (l *benchVideoLeg) takeIDR() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.wantIDR
	l.wantIDR = false
	return w
}

func (l *benchVideoLeg) shows() ParticipantID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// benchRoom is a conference of n VideoSwitched fake legs that each send one
// single-packet frame per frame interval.
type benchRoom struct {
	h     *harness
	parts []*Participant
	legs  []*benchVideoLeg
	seqs  []uint16
	ts    []uint32
	pkt   rtp.Packet
}

func newBenchRoom(b *testing.B, n int) *benchRoom {
	h := newHarness(b, Config{})
	r := &benchRoom{h: h}
	for i := range n {
		leg := &benchVideoLeg{}
		leg.info = LegInfo{Protocol: ProtocolSIP}
		leg.codec = media.PCMU
		p, err := h.b.Admit(b.Context(), openRoom(), leg)
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, "a caller to join", p.Joined)
		r.parts = append(r.parts, p)
		r.legs = append(r.legs, leg)
		r.seqs = append(r.seqs, uint16(i*7919))
		r.ts = append(r.ts, uint32(i*104729))
	}
	return r
}

var (
	benchIDR   = []byte{0x65, 0x88, 0x84, 0x00, 0x10}
	benchSlice = make([]byte, 1100)
)

// frame has participant i send one frame: an IDR if its encoder owes one.
func (r *benchRoom) frame(i int) {
	payload := benchSlice
	if r.legs[i].takeIDR() {
		payload = benchIDR
	}
	r.pkt.Header = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: r.seqs[i], Timestamp: r.ts[i], SSRC: uint32(i + 1), Marker: true}
	r.pkt.Payload = payload
	r.parts[i].ReceiveVideo(&r.pkt)
	r.seqs[i]++
	r.ts[i] += 3000
}

// BenchmarkVideoSwitch measures the switch latency of voice switching:
// from the talker change to the first packet of the new talker's keyframe
// at every other receiver, in frame intervals at 30 frames/s, over 1000
// switches a second apart, with encoders that answer a keyframe request on
// their next frame. The reference is the floor: one frame interval (the request
// cannot be answered before the next frame). It fails on any sequence gap
// in a receiver's stream.
func BenchmarkVideoSwitch(b *testing.B) {
	const switches, frameInterval = 1000, 33 * time.Millisecond
	for b.Loop() {
		r := newBenchRoom(b, 3)
		c := r.parts[0].conf
		for i := range r.parts {
			r.frame(i)
		}
		var lat []int
		for s := range switches {
			// Each talker talks for a second before the next one: keyframe
			// requests to one source are throttled to one per 300 ms.
			for range 30 {
				r.h.clock.Advance(frameInterval, frameInterval)
				for i := range r.parts {
					r.frame(i)
				}
			}
			talker := (s + 1) % len(r.parts)
			c.video.setSpeaker(r.parts[talker].ID())
			for f := 1; ; f++ {
				r.h.clock.Advance(frameInterval, frameInterval)
				for i := range r.parts {
					r.frame(i)
				}
				done := true
				for i, l := range r.legs {
					if i != talker && l.shows() != r.parts[talker].ID() {
						done = false
					}
				}
				if done {
					lat = append(lat, f)
					break
				}
				if f > 100 {
					b.Fatalf("switch %d did not happen within 100 frames", s)
				}
			}
		}
		gaps := 0
		for _, l := range r.legs {
			gaps += l.gaps
		}
		if gaps != 0 {
			b.Fatalf("%d sequence gaps in the receivers' streams; want 0", gaps)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*95/100]), "p95-frames")
		b.ReportMetric(float64(lat[len(lat)/2]), "p50-frames")
		b.ReportMetric(1, "reference-floor-frames")
		b.ReportMetric(float64(gaps), "seq-gaps")
		_ = r.h.b.Close()
	}
}

// BenchmarkVideoForward measures the bridge's per-packet cost of one
// source's packet fanned out to 1, 10 and 100 VideoSwitched receivers
// (inspect, rewrite, hand to each leg), next to the reference: a plain copy
// of the packet's payload into each receiver's buffer. Both must report 0
// allocs/op.
func BenchmarkVideoForward(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("reference: plain copy to %d receivers", n), func(b *testing.B) {
			bufs := make([][]byte, n)
			for i := range bufs {
				bufs[i] = make([]byte, 1500)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, buf := range bufs {
					copy(buf, benchSlice)
				}
			}
		})
		b.Run(fmt.Sprintf("router to %d receivers", n), func(b *testing.B) {
			r := newBenchRoom(b, n+1)
			r.legs[0].takeIDR()
			r.pkt.Header = rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
			r.pkt.Payload = benchIDR
			r.parts[0].ReceiveVideo(&r.pkt) // every receiver switches to it
			r.pkt.Payload = benchSlice
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r.pkt.SequenceNumber = uint16(i + 1)
				r.pkt.Timestamp = uint32(i * 3000)
				r.parts[0].ReceiveVideo(&r.pkt)
			}
			if r.legs[1].shows() != r.parts[0].ID() {
				b.Fatal("the receivers did not get the source")
			}
		})
	}
}
