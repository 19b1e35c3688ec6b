package sipcall

import "encoding/binary"

// rtpHeader is the part of an RTP header (RFC 3550 §5.1) a leg uses.
type rtpHeader struct {
	Marker bool
	PT     uint8
	Seq    uint16
	TS     uint32
	SSRC   uint32
}

// parseRTP reads the header of an RTP packet and returns its payload, a
// slice of b. It skips CSRCs and a header extension and strips padding
// (RFC 3550 §5.1, §5.3.1) and allocates nothing.
func parseRTP(b []byte) (rtpHeader, []byte, error) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return rtpHeader{}, nil, errRTP
	}
	h := rtpHeader{
		Marker: b[1]&0x80 != 0,
		PT:     b[1] & 0x7f,
		Seq:    binary.BigEndian.Uint16(b[2:]),
		TS:     binary.BigEndian.Uint32(b[4:]),
		SSRC:   binary.BigEndian.Uint32(b[8:]),
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return rtpHeader{}, nil, errRTP
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		if end == 0 || int(b[end-1]) == 0 {
			return rtpHeader{}, nil, errRTP
		}
		end -= int(b[end-1])
	}
	if off > end {
		return rtpHeader{}, nil, errRTP
	}
	return h, b[off:end], nil
}

// putRTP writes a 12-byte RTP header without CSRCs or extension into b.
func putRTP(b []byte, h rtpHeader) {
	b[0] = 2 << 6
	b[1] = h.PT & 0x7f
	if h.Marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], h.Seq)
	binary.BigEndian.PutUint32(b[4:], h.TS)
	binary.BigEndian.PutUint32(b[8:], h.SSRC)
}

// isRTCP tells RTCP from RTP on a multiplexed port by the packet type
// (RFC 5761 §4): RTCP types 192-223 fall where RTP would have payload
// types 64-95, which RTP avoids.
func isRTCP(b []byte) bool {
	return len(b) >= 2 && b[1] >= 192 && b[1] <= 223
}
