package sipcall

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// handleRTCP reads a compound RTCP packet about our video stream or the
// peer's: its SR (for our LSR), reception reports (RTT, loss), keyframe
// requests (PLI, RFC 4585 §6.3.1; FIR, RFC 5104 §4.3.1), NACKs (RFC 4585
// §6.2.1, answered from the history when negotiated) and bit rate limits
// (TMMBR, RFC 5104 §4.2.1, answered with TMMBN; REMB).
func (s *videoSession) handleRTCP(b []byte, from netip.AddrPort, muxed bool) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	now := s.cfg.Now()
	keyframe := false
	var resend [][]byte
	var reply []byte
	s.mu.Lock()
	if s.cfg.Latch && !muxed && !s.rtcpLatch {
		s.rtcpLatch = true
		s.remoteRTCP = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.rx.lsr, s.rx.lsrAt = ntpMiddle(p.NTPTime), now
			s.takeReports(p.Reports, now)
		case *rtcp.ReceiverReport:
			s.takeReports(p.Reports, now)
		case *rtcp.PictureLossIndication:
			keyframe = keyframe || p.MediaSSRC == s.ssrc || p.MediaSSRC == 0
		case *rtcp.FullIntraRequest:
			for _, e := range p.FIR {
				keyframe = keyframe || e.SSRC == s.ssrc
			}
		case *rtcp.TransportLayerNack:
			if !s.m.FB.NACK || s.history == nil || p.MediaSSRC != s.ssrc {
				continue
			}
			for _, pair := range p.Nacks {
				for _, seq := range pair.PacketList() {
					if h := &s.history[seq%videoHistory]; h.n > 0 && h.seq == seq {
						resend = append(resend, append([]byte(nil), h.buf[:h.n]...))
					}
				}
			}
		case *rtcp.RawPacket:
			if sender, e, ok := parseTMMBR(*p); ok && e.SSRC == s.ssrc {
				s.peerMaxKbps = int(e.Bitrate / 1000)
				// The bounding set is this one request (RFC 5104 §4.2.2).
				reply = appendTMMB(reply, fmtTMMBN, s.ssrc, tmmbEntry{SSRC: sender, Bitrate: e.Bitrate, Overhead: e.Overhead})
			}
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			s.peerMaxKbps = int(p.Bitrate / 1000)
		}
	}
	dst, conn := s.remoteRTCP, s.rtcp
	if s.m.RTCPMux {
		dst, conn = s.remote, s.rtp
	}
	rtpDst := s.remote
	s.mu.Unlock()

	crypto := s.crypto.load()
	for _, pkt := range resend {
		// The same packet under the same index: SRTP gives the same
		// bytes again (RFC 3711 §3.3.1), nothing new to an eavesdropper.
		if out, err := crypto.protectRTP(nil, pkt); err == nil {
			_, _ = s.rtp.WriteToUDPAddrPort(out, rtpDst)
		}
	}
	if len(reply) > 0 && dst.IsValid() {
		if out, err := crypto.protectRTCP(nil, reply); err == nil {
			_, _ = conn.WriteToUDPAddrPort(out, dst)
		}
	}
	if keyframe && s.ev.keyframeRequested != nil {
		s.ev.keyframeRequested()
	}
}

// takeReports reads the reception report about our stream. The caller
// holds s.mu.
func (s *videoSession) takeReports(reports []rtcp.ReceptionReport, now time.Time) {
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

// requestKeyframe asks the peer for a keyframe: PLI if it negotiated
// "nack pli", else FIR if "ccm fir" (RFC 5104 §4.3.1.1, with our own
// sequence number), else SIP INFO picture_fast_update (RFC 5168).
func (s *videoSession) requestKeyframe() {
	s.mu.Lock()
	var pkt rtcp.Packet
	switch {
	case s.m.FB.PLI:
		pkt = &rtcp.PictureLossIndication{SenderSSRC: s.ssrc, MediaSSRC: s.rx.ssrc}
	case s.m.FB.FIR:
		s.firSeq++
		pkt = &rtcp.FullIntraRequest{SenderSSRC: s.ssrc, MediaSSRC: s.rx.ssrc, FIR: []rtcp.FIREntry{{SSRC: s.rx.ssrc, SequenceNumber: s.firSeq}}}
	}
	dst, conn := s.remoteRTCP, s.rtcp
	if s.m.RTCPMux {
		dst, conn = s.remote, s.rtp
	}
	s.mu.Unlock()
	if pkt == nil {
		if s.ev.fastUpdate != nil {
			s.ev.fastUpdate()
		}
		return
	}
	if !dst.IsValid() {
		return
	}
	if raw, err := rtcp.Marshal([]rtcp.Packet{pkt}); err == nil {
		if raw, err = s.crypto.load().protectRTCP(nil, raw); err == nil {
			_, _ = conn.WriteToUDPAddrPort(raw, dst)
		}
	}
}

// sendReport sends our compound report: an SR while we send (its RTP time
// extrapolated at 90 kHz from the last packet of our rewritten stream, so
// the NTP/RTP mapping holds across switches), else an RR; a reception
// report block for the peer's stream; SDES CNAME; and the room's limit
// (the ceiling, or less if a receiver asked for less) as TMMBR or REMB when
// negotiated, so the peer does not send more than every other participant
// can take (RFC 5104 §4.2.1).
func (s *videoSession) sendReport(now time.Time) {
	limit := s.ceiling.Kbps
	if s.ev.limitKbps != nil {
		limit = min(limit, s.ev.limitKbps())
	}
	s.mu.Lock()
	dst, conn := s.remoteRTCP, s.rtcp
	if s.m.RTCPMux {
		dst, conn = s.remote, s.rtp
	}
	var blocks []rtcp.ReceptionReport
	if s.rx.started {
		jitter := uint32(s.rx.jitter)
		s.q.addJitter(time.Duration(float64(jitter) / 90000 * float64(time.Second)))
		rr := rtcp.ReceptionReport{
			SSRC: s.rx.ssrc, FractionLost: s.rx.fractionLost(), TotalLost: min(s.rx.lost(), 0x7fffff),
			LastSequenceNumber: s.rx.extendedMax(), Jitter: jitter,
		}
		if s.rx.lsr != 0 {
			rr.LastSenderReport = s.rx.lsr
			rr.Delay = uint32(now.Sub(s.rx.lsrAt) * 65536 / time.Second)
		}
		blocks = append(blocks, rr)
	}
	s.q.interval(now, s.rx.octets, s.sentOctets)
	pkts := make([]rtcp.Packet, 0, 3)
	if s.sent > 0 && now.Sub(s.lastSentAt) < 2*s.cfg.RTCPInterval {
		ntp := ntpTime(now)
		rtpTime := s.lastSentTS + uint32(now.Sub(s.lastSentAt).Seconds()*90000)
		pkts = append(pkts, &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntp, RTPTime: rtpTime,
			PacketCount: uint32(s.sent), OctetCount: uint32(s.sentOctets), Reports: blocks})
		s.lastSR = ntpMiddle(ntp)
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.ssrc, rtcpCNAME))
	var tmmbr []byte
	if s.rx.started {
		bps := uint64(limit) * 1000
		switch {
		case s.m.FB.TMMBR:
			tmmbr = appendTMMB(nil, fmtTMMBR, s.ssrc, tmmbEntry{SSRC: s.rx.ssrc, Bitrate: bps, Overhead: 40})
		case s.m.FB.REMB:
			pkts = append(pkts, &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: s.ssrc, Bitrate: float32(bps), SSRCs: []uint32{s.rx.ssrc}})
		}
	}
	s.mu.Unlock()
	if !dst.IsValid() {
		return
	}
	if raw, err := rtcp.Marshal(pkts); err == nil {
		if raw, err = s.crypto.load().protectRTCP(nil, append(raw, tmmbr...)); err == nil {
			_, _ = conn.WriteToUDPAddrPort(raw, dst)
		}
	}
}
