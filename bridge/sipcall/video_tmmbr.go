package sipcall

import (
	"encoding/binary"
	"math/bits"
)

// TMMBR and TMMBN (RFC 5104 §4.2.1, §4.2.2): transport-layer feedback
// (RTCP type 205) with FMT 3 and 4, which pion/rtcp hands over as raw
// packets.
const (
	rtcpRTPFB = 205
	fmtTMMBR  = 3
	fmtTMMBN  = 4
)

// tmmbEntry is one FCI entry of a TMMBR or TMMBN (RFC 5104 §4.2.1.1).
type tmmbEntry struct {
	SSRC     uint32
	Bitrate  uint64 // bit/s
	Overhead uint16 // bytes per packet, 9 bits
}

// parseTMMBR reads a raw RTCP packet; ok is false unless it is a TMMBR.
// It returns the sender's SSRC and the first entry.
func parseTMMBR(b []byte) (sender uint32, e tmmbEntry, ok bool) {
	if len(b) < 20 || b[1] != rtcpRTPFB || b[0]&0x1f != fmtTMMBR {
		return 0, tmmbEntry{}, false
	}
	sender = binary.BigEndian.Uint32(b[4:])
	fci := binary.BigEndian.Uint32(b[16:])
	e.SSRC = binary.BigEndian.Uint32(b[12:])
	exp := fci >> 26
	mantissa := uint64(fci>>9) & 0x1ffff
	if exp > 40 {
		return 0, tmmbEntry{}, false
	}
	e.Bitrate = mantissa << exp
	e.Overhead = uint16(fci & 0x1ff)
	return sender, e, true
}

// appendTMMB appends a TMMBR (fmt 3) or TMMBN (fmt 4) with one entry.
func appendTMMB(dst []byte, fmtType uint8, sender uint32, e tmmbEntry) []byte {
	exp := 0
	if n := bits.Len64(e.Bitrate); n > 17 {
		exp = n - 17
	}
	fci := uint32(exp)<<26 | uint32(e.Bitrate>>exp)<<9 | uint32(e.Overhead&0x1ff)
	dst = append(dst, 2<<6|fmtType, rtcpRTPFB, 0, 4) // length: 5 words - 1
	dst = binary.BigEndian.AppendUint32(dst, sender)
	dst = binary.BigEndian.AppendUint32(dst, 0) // media source: unused (§4.2.1.2)
	dst = binary.BigEndian.AppendUint32(dst, e.SSRC)
	return binary.BigEndian.AppendUint32(dst, fci)
}
