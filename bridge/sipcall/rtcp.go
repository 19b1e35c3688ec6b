package sipcall

import (
	"net/netip"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/pion/rtcp"
)

// rtcpCNAME is the SDES CNAME of our reports (RFC 3550 §6.5.1): one per
// bridge is enough, since each leg has its own SSRC and no lip sync across
// legs is implied.
const rtcpCNAME = "bifrost"

// qualityAcc accumulates what Quality reports: jitter and round-trip
// samples and the byte counts of the last report interval.
type qualityAcc struct {
	start time.Time

	jitterN   int
	jitterSum time.Duration
	jitterMax time.Duration
	rttN      int
	rttSum    time.Duration
	rttMax    time.Duration
	// remoteLost is the peer's count of our packets it lost (RR).
	remoteLost uint64

	lastAt        time.Time
	lastInOctets  uint64
	lastOutOctets uint64
	bitrateIn     int
	bitrateOut    int
}

func (q *qualityAcc) addJitter(d time.Duration) {
	q.jitterN++
	q.jitterSum += d
	q.jitterMax = max(q.jitterMax, d)
}

func (q *qualityAcc) addRTT(d time.Duration) {
	q.rttN++
	q.rttSum += d
	q.rttMax = max(q.rttMax, d)
}

// interval records the byte counts at a report, for the bitrates.
func (q *qualityAcc) interval(now time.Time, inOctets, outOctets uint64) {
	from := q.lastAt
	if from.IsZero() {
		from = q.start
	}
	if d := now.Sub(from); d > 0 {
		q.bitrateIn = int(float64(inOctets-q.lastInOctets) * 8 / d.Seconds())
		q.bitrateOut = int(float64(outOctets-q.lastOutOctets) * 8 / d.Seconds())
	}
	q.lastAt, q.lastInOctets, q.lastOutOctets = now, inOctets, outOctets
}

func (q *qualityAcc) snapshot(sent, received, localLost uint64) bridge.Quality {
	out := bridge.Quality{
		PacketsSent:     sent,
		PacketsReceived: received,
		PacketsLost:     localLost + q.remoteLost,
		JitterMax:       q.jitterMax,
		RTTMax:          q.rttMax,
		BitrateIn:       q.bitrateIn,
		BitrateOut:      q.bitrateOut,
	}
	if q.jitterN > 0 {
		out.JitterAvg = q.jitterSum / time.Duration(q.jitterN)
	}
	if q.rttN > 0 {
		out.RTTAvg = q.rttSum / time.Duration(q.rttN)
	}
	return out
}

// handleRTCP reads a compound RTCP packet from the peer: an SR's NTP time
// for our LSR field, and the reception report about our stream for loss,
// jitter and round-trip time (RFC 3550 §6.4.1: RTT = A - LSR - DLSR).
func (s *mediaSession) handleRTCP(b []byte, from netip.AddrPort, muxed bool) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Latch && !muxed && !s.rtcpLatch {
		s.rtcpLatch = true
		s.remoteRTCP = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	}
	for _, p := range pkts {
		var reports []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.rx.lsr, s.rx.lsrAt = ntpMiddle(p.NTPTime), now
			reports = p.Reports
		case *rtcp.ReceiverReport:
			reports = p.Reports
		}
		for _, r := range reports {
			if r.SSRC != s.ssrc {
				continue
			}
			s.q.remoteLost = uint64(r.TotalLost & 0xffffff)
			if r.LastSenderReport != 0 && r.LastSenderReport == s.lastSR {
				a := ntpMiddle(ntpTime(now))
				if rtt := a - r.LastSenderReport - r.Delay; rtt < 1<<31 {
					s.q.addRTT(fromShortNTP(rtt))
				}
			}
		}
	}
}

// sendReport sends our compound report: an SR when we sent media since
// the last one, else an RR, each with a reception report block for the
// peer's stream once we have heard it, and an SDES CNAME (RFC 3550 §6.1).
func (s *mediaSession) sendReport(now time.Time) {
	s.mu.Lock()
	dst := s.remoteRTCP
	conn := s.rtcp
	if s.m.RTCPMux {
		conn, dst = s.rtp, s.remote
	}
	var blocks []rtcp.ReceptionReport
	if s.rx.started {
		jitter := uint32(s.rx.jitter)
		s.q.addJitter(time.Duration(float64(jitter) / float64(s.m.Codec.ClockRate) * float64(time.Second)))
		rr := rtcp.ReceptionReport{
			SSRC:               s.rx.ssrc,
			FractionLost:       s.rx.fractionLost(),
			TotalLost:          min(s.rx.lost(), 0x7fffff),
			LastSequenceNumber: s.rx.extendedMax(),
			Jitter:             jitter,
		}
		if s.rx.lsr != 0 {
			rr.LastSenderReport = s.rx.lsr
			rr.Delay = uint32(now.Sub(s.rx.lsrAt) * 65536 / time.Second)
		}
		blocks = append(blocks, rr)
	}
	s.q.interval(now, s.rx.octets, s.sentOctets)
	var first rtcp.Packet
	if s.sent > 0 && !s.lastSentAt.IsZero() && now.Sub(s.lastSentAt) < 2*s.cfg.RTCPInterval {
		ntp := ntpTime(now)
		// The RTP time of now, extrapolated from the last packet sent.
		rtpTime := s.lastSentTS + uint32(now.Sub(s.lastSentAt).Seconds()*float64(s.m.Codec.ClockRate))
		first = &rtcp.SenderReport{
			SSRC: s.ssrc, NTPTime: ntp, RTPTime: rtpTime,
			PacketCount: uint32(s.sent), OctetCount: uint32(s.sentOctets), Reports: blocks,
		}
		s.lastSR = ntpMiddle(ntp)
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks}
	}
	ssrc := s.ssrc
	s.mu.Unlock()

	if !dst.IsValid() {
		return
	}
	raw, err := rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(ssrc, rtcpCNAME)})
	if err != nil {
		return
	}
	if raw, err = s.crypto.load().protectRTCP(nil, raw); err != nil {
		return
	}
	var to sockaddr
	_ = conn.writeTo(raw, dst, &to)
}
