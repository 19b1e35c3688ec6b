package main

import (
	"bytes"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge/media"
)

func TestSyntheticCameraIsWellFormedH264(t *testing.T) {
	f := newH264Frames()
	if !startsKeyframe(f.idr[0]) {
		t.Errorf("the IDR frame starts with NAL type %d; want an SPS", f.idr[0][0]&0x1f)
	}
	for i, p := range f.slice {
		if startsKeyframe(p) {
			t.Errorf("P-frame packet %d counts as a keyframe", i)
		}
	}
	// The fragments of one NAL unit: the first with S, the last with E, the
	// sizes adding up (RFC 6184 §5.8).
	for name, frags := range map[string][][]byte{"IDR": f.idr[2:], "P": f.slice} {
		total := 0
		for i, p := range frags {
			if got, want := p[1]&0x80 != 0, i == 0; got != want {
				t.Errorf("%s fragment %d: start bit %v; want %v", name, i, got, want)
			}
			if got, want := p[1]&0x40 != 0, i == len(frags)-1; got != want {
				t.Errorf("%s fragment %d: end bit %v; want %v", name, i, got, want)
			}
			total += len(p) - 2
		}
		want := map[string]int{"IDR": camIDRBytes, "P": camSliceBytes}[name]
		if total != want {
			t.Errorf("%s fragments carry %d bytes; want %d", name, total, want)
		}
	}
	if !startsKeyframe(f.idr[2]) {
		t.Error("the IDR's first fragment does not count as a keyframe")
	}
	if startsKeyframe(f.idr[3]) {
		t.Error("the IDR's second fragment counts as a keyframe start")
	}
	if !startsKeyframe([]byte{24, 0, 4, 0x67, 1, 2, 3}) {
		t.Error("a STAP-A beginning with an SPS does not count as a keyframe")
	}
}

func TestRTPPayloadSkipsCSRCsAndExtensions(t *testing.T) {
	payload := []byte{0x65, 1, 2, 3}
	ext := rtp.Header{Version: 2, PayloadType: 102}
	if err := ext.SetExtension(3, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []rtp.Header{
		{Version: 2, PayloadType: 102},
		{Version: 2, PayloadType: 102, CSRC: []uint32{1, 2}},
		ext,
	} {
		p := rtp.Packet{Header: h, Payload: payload}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := rtpPayload(b)
		if !ok || !bytes.Equal(got, payload) {
			t.Errorf("header %+v: payload %x, %v; want %x", h, got, ok, payload)
		}
	}
	if _, ok := rtpPayload([]byte{0x80, 0, 0}); ok {
		t.Error("a 3-byte packet has a payload")
	}
}

func TestWantsKeyframeFindsPLIAndFIRInACompound(t *testing.T) {
	tests := []struct {
		name string
		pkts []rtcp.Packet
		want bool
	}{
		{"a receiver report alone", []rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}}, false},
		{"a PLI after a receiver report", []rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{MediaSSRC: 2}}, true},
		{"a FIR", []rtcp.Packet{&rtcp.FullIntraRequest{MediaSSRC: 2, FIR: []rtcp.FIREntry{{SSRC: 2}}}}, true},
		{"a REMB", []rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 1e6, SSRCs: []uint32{2}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := rtcp.Marshal(tt.pkts)
			if err != nil {
				t.Fatal(err)
			}
			if got := wantsKeyframe(b); got != tt.want {
				t.Errorf("wantsKeyframe = %v; want %v", got, tt.want)
			}
		})
	}
}

// FuzzWebRTCVideoReceive feeds the peers' video and RTCP parsers what the
// network may send: they must answer, never panic.
func FuzzWebRTCVideoReceive(f *testing.F) {
	for _, p := range newH264Frames().idr[:3] {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 102}, Payload: p}
		_ = pkt.SetExtension(1, []byte{9})
		b, _ := pkt.Marshal()
		f.Add(b)
	}
	pli, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{MediaSSRC: 2}})
	f.Add(pli)
	f.Add([]byte{0xb0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if pl, ok := rtpPayload(b); ok {
			_ = startsKeyframe(pl)
		}
		_ = wantsKeyframe(b)
	})
}

// A peer's tick, the pacer's work for it every 20 ms, allocates nothing of
// ours: one process drives many peers.
func TestPeerTickAllocatesNothing(t *testing.T) {
	loop, err := newAudioLoop(media.Opus)
	if err != nil {
		t.Fatal(err)
	}
	l := &webrtcLoad{loop: loop, silence: []byte{0xf8, 0xff, 0xfe}, h264: newH264Frames()}
	p := &peer{id: 1, l: l}
	if p.mic, err = webrtc.NewTrackLocalStaticRTP(opusCapability, "mic", "t"); err != nil {
		t.Fatal(err)
	}
	if p.cam, err = webrtc.NewTrackLocalStaticRTP(h264Capability, "cam", "t"); err != nil {
		t.Fatal(err)
	}
	frame := int64(0)
	allocs := testing.AllocsPerRun(200, func() {
		p.tick(frame, frame%3 == 0)
		frame++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per tick; want none", allocs)
	}
	if p.tx.apkt.SequenceNumber != uint16(frame) || p.tx.vpkt.Timestamp == 0 {
		t.Errorf("after %d ticks: audio sequence %d, video timestamp %d; want both advanced", frame, p.tx.apkt.SequenceNumber, p.tx.vpkt.Timestamp)
	}
}
