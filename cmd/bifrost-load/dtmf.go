package main

import "encoding/binary"

// RFC 4733 timing of a keyed digit, in 20 ms packets: 100 ms of tone
// (updates every 20 ms, §2.5.1.2), the end packet three times
// (§2.5.1.4), then 60 ms of audio before the next digit.
const (
	dtmfTonePackets = 5
	dtmfEndPackets  = 3
	dtmfGapFrames   = 3
	dtmfVolume      = 10 // -10 dBm0 (§2.3.4)
)

// eventCode is the RFC 4733 §3.2 event code of a DTMF digit.
func eventCode(d byte) (byte, bool) {
	switch {
	case d >= '0' && d <= '9':
		return d - '0', true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return 12 + d - 'A', true
	}
	return 0, false
}

// putEvent writes a telephone-event payload (RFC 4733 §2.3) into b[:4].
func putEvent(b []byte, code byte, end bool, duration uint16) {
	b[0] = code
	b[1] = dtmfVolume
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], duration)
}

// dtmfState is the digit the sender is keying, owned by the pacer.
type dtmfState struct {
	active  bool
	code    byte
	startTS uint32 // every packet of one event carries its start (§2.3.1)
	step    int
	gap     int
}
