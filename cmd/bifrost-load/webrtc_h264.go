package main

// The synthetic camera of `bifrost-load webrtc --video`: H.264 packetised
// as RFC 6184 describes (single NAL units and FU-A fragments), at about
// the rate and packet sizes of a 25 frames/s, 1 Mbit/s camera. The bridge
// inspects NAL types, never pictures, so the slices carry filler bytes.
const (
	videoFrameTicks = 2     // a frame every 2 pacer ticks: 25 frames/s
	videoClockStep  = 3600  // 90 kHz per 40 ms frame
	camIDRBytes     = 15000 // an IDR slice
	camSliceBytes   = 4500  // a P slice: ≈ 0.9 Mbit/s at 25 frames/s
	fuPayloadBytes  = 1100  // of each FU-A fragment (RFC 6184 §5.8)
)

// h264Frames are the packet payloads of one IDR frame (SPS, PPS, then the
// IDR slice in fragments) and of one P frame, built once per process and
// shared read-only by every peer.
type h264Frames struct {
	idr, slice [][]byte
}

var (
	h264SPS = []byte{0x67, 0x42, 0xe0, 0x1f, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc9, 0x20}
	h264PPS = []byte{0x68, 0xce, 0x06, 0xe2}
)

func newH264Frames() *h264Frames {
	return &h264Frames{
		idr:   append([][]byte{h264SPS, h264PPS}, fragment(0x65, camIDRBytes)...),
		slice: fragment(0x41, camSliceBytes),
	}
}

// fragment packs one NAL unit of header nal and size bytes into FU-A
// packets (RFC 6184 §5.8): FU indicator (type 28), FU header with the
// start and end bits and the NAL's type, then its bytes.
func fragment(nal byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < size; off += fuPayloadBytes {
		n := min(fuPayloadBytes, size-off)
		p := make([]byte, 2+n)
		p[0] = nal&0xe0 | 28
		p[1] = nal & 0x1f
		if off == 0 {
			p[1] |= 0x80
		}
		if off+n == size {
			p[1] |= 0x40
		}
		for i := range n {
			p[2+i] = byte(off + i)
		}
		out = append(out, p)
	}
	return out
}

// startsKeyframe reports whether an H.264 RTP payload begins a keyframe
// (RFC 6184 §5.2): an SPS or an IDR slice as a single NAL unit, first in a
// STAP-A, or in the first FU-A fragment.
func startsKeyframe(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: a 2-byte size before each NAL unit
		return len(p) > 3 && (p[3]&0x1f == 5 || p[3]&0x1f == 7)
	case 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
