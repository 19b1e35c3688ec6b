package main

import (
	"encoding/binary"
	"time"
)

// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).
const (
	rtcpSR    = 200
	rtcpRR    = 201
	rtcpSDES  = 202
	rtcpBYE   = 203
	rtcpPSFB  = 206
	fmtPLI    = 1 // RFC 4585 §6.3.1
	fmtFIR    = 4 // RFC 5104 §4.3.1
	sdesCNAME = 1
)

// reportBlock is one reception report block (RFC 3550 §6.4.1).
type reportBlock struct {
	SSRC         uint32
	FractionLost uint8
	Lost         int32 // 24 bits, signed
	HighestSeq   uint32
	Jitter       uint32
	LSR, DLSR    uint32
}

// ntpTime is t as a 64-bit NTP timestamp (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970 in seconds
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// putReportBlock writes rb at b[:24].
func putReportBlock(b []byte, rb reportBlock) {
	binary.BigEndian.PutUint32(b[0:], rb.SSRC)
	binary.BigEndian.PutUint32(b[4:], uint32(rb.FractionLost)<<24|uint32(rb.Lost)&0xffffff)
	binary.BigEndian.PutUint32(b[8:], rb.HighestSeq)
	binary.BigEndian.PutUint32(b[12:], rb.Jitter)
	binary.BigEndian.PutUint32(b[16:], rb.LSR)
	binary.BigEndian.PutUint32(b[20:], rb.DLSR)
}

// putSenderReport writes a compound RTCP packet into b: a sender report
// (RFC 3550 §6.4.1) with at most one report block, then an SDES with our
// CNAME (§6.5; every compound packet carries one, §6.1). It returns the
// length; b must hold 28+24+8+len(cname)+4 bytes. It allocates nothing.
func putSenderReport(b []byte, ssrc uint32, now time.Time, rtpTS uint32, packets, octets uint32, rb *reportBlock, cname string) int {
	rc := 0
	if rb != nil {
		rc = 1
	}
	n := 28 + 24*rc
	b[0] = 2<<6 | byte(rc)
	b[1] = rtcpSR
	binary.BigEndian.PutUint16(b[2:], uint16(n/4-1))
	binary.BigEndian.PutUint32(b[4:], ssrc)
	binary.BigEndian.PutUint64(b[8:], ntpTime(now))
	binary.BigEndian.PutUint32(b[16:], rtpTS)
	binary.BigEndian.PutUint32(b[20:], packets)
	binary.BigEndian.PutUint32(b[24:], octets)
	if rb != nil {
		putReportBlock(b[28:], *rb)
	}
	return n + putSDES(b[n:], ssrc, cname)
}

// putSDES writes an SDES packet with one chunk holding our CNAME
// (RFC 3550 §6.5.1), padded to 32 bits, and returns its length.
func putSDES(b []byte, ssrc uint32, cname string) int {
	cname = cname[:min(len(cname), 255)]
	// header 4, SSRC 4, type 1, length 1, text, at least one null octet.
	n := (4 + 4 + 2 + len(cname) + 1 + 3) &^ 3
	b[0] = 2<<6 | 1
	b[1] = rtcpSDES
	binary.BigEndian.PutUint16(b[2:], uint16(n/4-1))
	binary.BigEndian.PutUint32(b[4:], ssrc)
	b[8] = sdesCNAME
	b[9] = byte(len(cname))
	copy(b[10:], cname)
	clear(b[10+len(cname) : n])
	return n
}

// putBye writes an RTCP BYE (RFC 3550 §6.6) for ssrc after a receiver
// report without blocks (a compound packet starts with a report, §6.1)
// and returns the length.
func putBye(b []byte, ssrc uint32) int {
	b[0] = 2 << 6
	b[1] = rtcpRR
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint32(b[4:], ssrc)
	b[8] = 2<<6 | 1
	b[9] = rtcpBYE
	binary.BigEndian.PutUint16(b[10:], 1)
	binary.BigEndian.PutUint32(b[12:], ssrc)
	return 16
}

// isRTCP tells RTCP from RTP on a multiplexed port: RTCP packet types
// 192-223 fall where RTP payload types 64-95 with the marker bit would
// (RFC 5761 §4).
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223
}

// rtcpEvents is what a compound RTCP packet told us.
type rtcpEvents struct {
	SR         bool
	NTPMiddle  uint32 // of the sender report
	KeyRequest bool   // a PLI or FIR
}

// parseRTCP walks a compound RTCP packet (RFC 3550 §6.1) and reports a
// sender report's time and keyframe requests (PLI, RFC 4585 §6.3.1; FIR,
// RFC 5104 §4.3.1). Malformed packets end the walk; nothing panics and
// nothing is allocated.
func parseRTCP(b []byte) rtcpEvents {
	var ev rtcpEvents
	for len(b) >= 4 && b[0]>>6 == 2 {
		n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
		if n > len(b) {
			break
		}
		switch b[1] {
		case rtcpSR:
			if n >= 28 {
				ev.SR = true
				ev.NTPMiddle = uint32(binary.BigEndian.Uint64(b[8:]) >> 16)
			}
		case rtcpPSFB:
			if f := b[0] & 0x1f; f == fmtPLI || f == fmtFIR {
				ev.KeyRequest = true
			}
		}
		b = b[n:]
	}
	return ev
}
