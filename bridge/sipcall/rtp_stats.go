package sipcall

import "time"

// rxStats follows one received RTP stream for RTCP reception reports:
// extended sequence numbers and loss (RFC 3550 §A.1, §A.3) and
// interarrival jitter (§A.8).
type rxStats struct {
	started  bool
	ssrc     uint32
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	received uint64
	octets   uint64

	expectedPrior uint32
	receivedPrior uint64

	haveTransit bool
	transit     int64
	jitter      float64 // in RTP timestamp units, scaled as in §A.8

	// lsr is the middle 32 bits of the NTP time of the last SR received
	// and lsrAt when it arrived, for the LSR/DLSR fields (§6.4.1).
	lsr   uint32
	lsrAt time.Time
}

// update accounts a packet with sequence seq and timestamp ts arriving
// at arrival, expressed in the same clock as ts.
func (s *rxStats) update(ssrc uint32, seq uint16, ts uint32, arrival uint32, size int) {
	if !s.started || ssrc != s.ssrc {
		// A new source (or the first): start over, as §A.1 does after a
		// restart.
		*s = rxStats{started: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq - 1, lsr: s.lsr, lsrAt: s.lsrAt}
	}
	s.received++
	s.octets += uint64(size)
	if delta := seq - s.maxSeq; delta < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	}
	transit := int64(arrival) - int64(ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTransit = transit, true
}

// expected is the number of packets expected so far (§A.3).
func (s *rxStats) expected() uint32 {
	if !s.started {
		return 0
	}
	return s.cycles + uint32(s.maxSeq) - s.baseSeq + 1
}

// lost is the cumulative number of packets lost, never negative (late
// duplicates make the raw figure negative).
func (s *rxStats) lost() uint32 {
	exp := uint64(s.expected())
	if s.received >= exp {
		return 0
	}
	return uint32(exp - s.received)
}

// fractionLost computes the fraction lost since the previous call, as
// the 8-bit fixed-point number of a reception report (§A.3).
func (s *rxStats) fractionLost() uint8 {
	exp := s.expected()
	expInterval := exp - s.expectedPrior
	s.expectedPrior = exp
	recvInterval := s.received - s.receivedPrior
	s.receivedPrior = s.received
	if expInterval == 0 || uint64(expInterval) <= recvInterval {
		return 0
	}
	return uint8((uint64(expInterval) - recvInterval) << 8 / uint64(expInterval))
}

// extendedMax is the extended highest sequence number received.
func (s *rxStats) extendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }

// ntpTime converts t to the 64-bit NTP format of RTCP (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix() + unixToNTP)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of an NTP time, the unit of LSR and
// DLSR (1/65536 s).
func ntpMiddle(n uint64) uint32 { return uint32(n >> 16) }

// fromShortNTP converts 1/65536 s units to a duration.
func fromShortNTP(v uint32) time.Duration {
	return time.Duration(uint64(v) * uint64(time.Second) >> 16)
}
