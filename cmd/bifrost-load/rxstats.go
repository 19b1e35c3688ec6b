package main

import (
	"sync"
	"time"
)

// maxDropout and maxMisorder bound a sequence number jump that still
// belongs to the same run of packets (RFC 3550 A.1).
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// rxStats are a call's receiver statistics of the bridge's audio stream:
// packets, extended highest sequence number, loss (RFC 3550 A.3) and
// interarrival jitter (RFC 3550 A.8). The receiving goroutine updates
// them; the progress line and the RTCP sender read them, so a mutex
// guards them (uncontended, and it allocates nothing).
type rxStats struct {
	mu sync.Mutex

	have     bool
	ssrc     uint32
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	received uint64
	transit  int32
	jitter   float64 // in RTP timestamp units, RFC 3550 A.8

	// Counts of earlier SSRCs of the bridge's stream (a restarted sender).
	prevExpected, prevReceived uint64

	// For the fraction lost of the next receiver report (RFC 3550 A.3).
	expectedPrior, receivedPrior uint64

	// The last sender report: middle 32 bits of its NTP time and when it
	// came (RFC 3550 §6.4.1 LSR and DLSR).
	lsr   uint32
	lsrAt time.Time

	rtcpIn  uint64
	otherIn uint64 // RTP of another payload type (events, later video)
}

// update takes one audio packet: its SSRC, sequence number, RTP timestamp
// and arrival time in the same clock's units.
func (s *rxStats) update(ssrc uint32, seq uint16, ts, arrival uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	transit := int32(arrival - ts)
	if !s.have || ssrc != s.ssrc {
		s.restart(ssrc, seq)
		s.received++
		s.transit = transit
		return
	}
	switch delta := seq - s.maxSeq; {
	case delta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += 1 << 16 // wrapped
		}
		s.maxSeq = seq
	case delta <= 1<<16-maxMisorder:
		// A jump too large to be loss: the sender restarted its sequence.
		s.restart(ssrc, seq)
	default:
		// Duplicate or reordered: counted, no new maximum.
	}
	s.received++
	d := transit - s.transit
	s.transit = transit
	if d < 0 {
		d = -d
	}
	s.jitter += (float64(d) - s.jitter) / 16
}

// restart begins a new run of sequence numbers, keeping what the previous
// run counted.
func (s *rxStats) restart(ssrc uint32, seq uint16) {
	if s.have {
		s.prevExpected += s.expectedLocked()
		s.prevReceived += s.received
	}
	s.have, s.ssrc = true, ssrc
	s.baseSeq, s.maxSeq, s.cycles = uint32(seq), seq, 0
	s.received = 0
}

// expectedLocked is how many packets the current run should have had
// (RFC 3550 A.3).
func (s *rxStats) expectedLocked() uint64 {
	if !s.have {
		return 0
	}
	return uint64(s.cycles) + uint64(s.maxSeq) - uint64(s.baseSeq) + 1
}

// rxSnapshot is a copy of the statistics for reports.
type rxSnapshot struct {
	Received, Expected, Lost uint64
	JitterUnits              float64
	RTCPIn, OtherIn          uint64
}

// snapshot returns the totals over every run.
func (s *rxStats) snapshot() rxSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp := s.prevExpected + s.expectedLocked()
	rec := s.prevReceived + s.received
	lost := uint64(0)
	if exp > rec {
		lost = exp - rec
	}
	return rxSnapshot{Received: rec, Expected: exp, Lost: lost, JitterUnits: s.jitter, RTCPIn: s.rtcpIn, OtherIn: s.otherIn}
}

// reportBlock is an RTCP reception report block (RFC 3550 §6.4.1) of the
// current run, and whether there is one to send. It updates the interval
// counts behind the fraction lost.
func (s *rxStats) reportBlock(now time.Time) (rb reportBlock, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.have {
		return rb, false
	}
	exp := s.expectedLocked()
	lost := int64(exp) - int64(s.received)
	lost = max(min(lost, 0x7fffff), -0x800000)
	expInterval := exp - s.expectedPrior
	recInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = exp, s.received
	var fraction uint8
	if expInterval > 0 && expInterval > recInterval {
		fraction = uint8((expInterval - recInterval) << 8 / expInterval)
	}
	rb = reportBlock{
		SSRC:         s.ssrc,
		FractionLost: fraction,
		Lost:         int32(lost),
		HighestSeq:   s.cycles + uint32(s.maxSeq),
		Jitter:       uint32(s.jitter),
		LSR:          s.lsr,
	}
	if !s.lsrAt.IsZero() {
		rb.DLSR = uint32(now.Sub(s.lsrAt) * 65536 / time.Second)
	}
	return rb, true
}

// senderReport notes a sender report's NTP time (its middle 32 bits).
func (s *rxStats) senderReport(ntpMiddle uint32, at time.Time) {
	s.mu.Lock()
	s.lsr, s.lsrAt = ntpMiddle, at
	s.rtcpIn++
	s.mu.Unlock()
}

// countRTCP counts an RTCP compound packet other than a sender report.
func (s *rxStats) countRTCP() {
	s.mu.Lock()
	s.rtcpIn++
	s.mu.Unlock()
}

// countOther counts an RTP packet of a payload type that is not the audio.
func (s *rxStats) countOther() {
	s.mu.Lock()
	s.otherIn++
	s.mu.Unlock()
}
