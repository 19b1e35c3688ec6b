package webcall

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// leg is a browser's bridge.Leg and bridge.VideoLeg: one PeerConnection with
// one audio transceiver (the browser's microphone in, the room's mix out), one
// video transceiver for the browser's camera, and one outgoing video track per
// shown source.
type leg struct {
	se    *session
	pc    *webrtc.PeerConnection
	mix   *webrtc.TrackLocalStaticRTP
	info  bridge.LegInfo
	part  atomic.Pointer[bridge.Participant]
	start time.Time

	audioMu sync.Mutex // SendAudio: the mixer, or the IVR before the join
	apkt    rtp.Packet
	aseq    uint16
	ats     uint32
	last    [media.MaxPayload]byte // the last payload sent, to spot the mixer's repeats
	lastN   int
	repeats int  // consecutive repeats of last
	skipped bool // frames of silence were skipped since the last packet of sound

	// outs maps each shown source to its track; copy on write, so that
	// SendVideo reads it without a lock.
	outs    atomic.Pointer[map[bridge.ParticipantID]*videoOut]
	asked   sync.Map // sources whose first packet was reported to the session
	camSSRC atomic.Uint32

	cameraOff atomic.Bool
	// noVideo is set when the browser's answer refused video (port 0: a
	// browser without H.264, such as Firefox before its OpenH264 plugin
	// arrives); the leg is then audio-only.
	noVideo atomic.Bool

	sent, received, lost atomic.Uint64
	sentBytes, recvBytes atomic.Uint64
	rateMu               sync.Mutex // the last Quality call, for the bitrates
	rateAt               time.Time
	rateSent, rateRecv   uint64
	jitterSum, jitterN   atomic.Uint64 // RR jitter in µs
	jitterMax            atomic.Uint64
	rttSum, rttN, rttMax atomic.Uint64 // from RR LSR/DLSR, in µs
	remb                 atomic.Uint64 // the browser's receive estimate, bit/s

	closeOnce sync.Once
	wg        sync.WaitGroup
}

type videoOut struct {
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
}

func newLeg(se *session, name string) (*leg, error) {
	pc, err := se.s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	l := &leg{se: se, pc: pc, start: time.Now()}
	l.info = bridge.LegInfo{
		Protocol:    bridge.ProtocolWebRTC,
		Transport:   se.transport(),
		DisplayName: name,
		RemoteAddr:  se.addr,
		UserAgent:   se.ua,
		AudioCodec:  media.Opus.String(),
		VideoCodec:  "H264/90000",
		Encryption:  bridge.EncryptionDTLSSRTP,
	}
	empty := map[bridge.ParticipantID]*videoOut{}
	l.outs.Store(&empty)
	l.mix, err = webrtc.NewTrackLocalStaticRTP(opusCodec, "mix", "bifrost")
	if err == nil {
		var tr *webrtc.RTPTransceiver
		tr, err = pc.AddTransceiverFromTrack(l.mix, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		if err == nil {
			l.readRTCP(tr.Sender(), "")
		}
	}
	if err == nil {
		_, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	}
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	l.apkt.Header = rtp.Header{Version: 2, PayloadType: ptOpus}
	pc.OnTrack(l.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			select {
			case se.pcFailed <- struct{}{}:
			default:
			}
		}
	})
	return l, nil
}

// Info describes the call.
func (l *leg) Info() bridge.LegInfo {
	info := l.info
	if l.noVideo.Load() {
		info.VideoCodec = ""
	}
	return info
}

// AudioCodec is Opus: browsers send it and receive it.
func (l *leg) AudioCodec() media.AudioCodec { return media.Opus }

// The mix goes to browsers without Opus DTX. libopus decides DTX with its
// speech detector, which takes any steady sound for background noise: a
// stationary mix (music, a tone, a caller's hum) is cut to one frame every
// 400 ms after its first 800 ms, and the browser hears it stutter; its
// echo canceller (on by getUserMedia's default) then sees a far end that
// keeps starting and stopping. What a browser need not get is a silent
// room: silenceRefresh says how often it gets the mixer's repeated packet
// of silence.

// silenceRefresh is how many of the mixer's repeats of one packet of
// silence a browser skips before it gets one again: one packet every
// 400 ms, as Opus DTX sends (RFC 7587 §3.1.3), keeps the browser's jitter
// buffer and statistics alive at 1/20 of the packets.
const silenceRefresh = 20

// SendAudio sends one 20 ms Opus frame of the room's mix. The mixer stops
// encoding a room that stayed silent and hands on its last packet of
// silence again instead (media.Mixer), so a payload equal to the previous
// one is that silence: all but every silenceRefresh-th such frame is
// skipped; its timestamp advances, its sequence number does not (RFC 3550
// §5.1), so the browser sees no loss, and the first packet after a skip
// carries the marker bit (RFC 3551 §4.1). An Opus encoder never repeats a
// packet of sound: its range coder and noise seed see to that.
func (l *leg) SendAudio(payload []byte) {
	l.audioMu.Lock()
	defer l.audioMu.Unlock()
	repeat := l.lastN == len(payload) && bytes.Equal(l.last[:l.lastN], payload)
	if repeat {
		l.repeats++
		if l.repeats%silenceRefresh != 0 {
			l.ats += uint32(media.Opus.SamplesPerFrame())
			l.skipped = true
			return
		}
	} else {
		l.repeats = 0
		l.lastN = copy(l.last[:], payload)
	}
	l.apkt.SequenceNumber = l.aseq
	l.apkt.Timestamp = l.ats
	l.apkt.Marker = !repeat && l.skipped
	l.apkt.Payload = payload
	l.aseq++
	l.ats += uint32(media.Opus.SamplesPerFrame())
	if !repeat {
		l.skipped = false
	}
	if err := l.mix.WriteRTP(&l.apkt); err == nil {
		l.sent.Add(1)
		l.sentBytes.Add(uint64(12 + len(payload)))
	}
	l.apkt.Payload = nil
}

// Hangup asks the session to end the call; it sends the browser a bye.
func (l *leg) Hangup(reason bridge.EndReason, code int) {
	select {
	case l.se.hangup <- hangupReq{reason, code}:
	default:
	}
}

// Quality is what the browser's receiver reports (RFC 3550 §6.4.2) say and
// what arrived.
func (l *leg) Quality() bridge.Quality {
	q := bridge.Quality{
		PacketsSent:     l.sent.Load(),
		PacketsReceived: l.received.Load(),
		PacketsLost:     l.lost.Load(),
		JitterMax:       time.Duration(l.jitterMax.Load()) * time.Microsecond,
	}
	if n := l.jitterN.Load(); n > 0 {
		q.JitterAvg = time.Duration(l.jitterSum.Load()/n) * time.Microsecond
	}
	if n := l.rttN.Load(); n > 0 {
		q.RTTAvg = time.Duration(l.rttSum.Load()/n) * time.Microsecond
		q.RTTMax = time.Duration(l.rttMax.Load()) * time.Microsecond
	}
	// The bitrates since the previous call (the bridge's report interval).
	now, sent, recv := time.Now(), l.sentBytes.Load(), l.recvBytes.Load()
	l.rateMu.Lock()
	if !l.rateAt.IsZero() {
		if d := now.Sub(l.rateAt).Seconds(); d > 0 {
			q.BitrateOut = int(float64(sent-l.rateSent) * 8 / d)
			q.BitrateIn = int(float64(recv-l.rateRecv) * 8 / d)
		}
	} else if d := now.Sub(l.start).Seconds(); d > 0 {
		q.BitrateOut = int(float64(sent) * 8 / d)
		q.BitrateIn = int(float64(recv) * 8 / d)
	}
	l.rateAt, l.rateSent, l.rateRecv = now, sent, recv
	l.rateMu.Unlock()
	return q
}

// VideoMode: browsers receive every other participant's stream, unless the
// browser refused video.
func (l *leg) VideoMode() bridge.VideoMode {
	if l.noVideo.Load() {
		return bridge.VideoNone
	}
	return bridge.VideoForwarded
}

// answered notes from the browser's answer whether it took video: the
// camera's m-line (the second) has a port other than 0 (RFC 3264 §6).
func (l *leg) answered(answer string) {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(answer) != nil || len(sd.MediaDescriptions) < 2 {
		return
	}
	l.noVideo.Store(sd.MediaDescriptions[1].MediaName.Port.Value == 0)
}

// SendVideo forwards one packet of source's video on its track; the first
// packet of a source without a track asks the session for one.
func (l *leg) SendVideo(source bridge.ParticipantID, pkt *rtp.Packet) {
	if o := (*l.outs.Load())[source]; o != nil {
		if o.track.WriteRTP(pkt) == nil {
			l.sent.Add(1)
			l.sentBytes.Add(uint64(pkt.MarshalSize()))
		}
		return
	}
	if _, dup := l.asked.LoadOrStore(source, true); dup {
		return
	}
	select {
	case l.se.sources <- source:
	default:
		l.asked.Delete(source) // try again with a later packet
	}
}

// RequestKeyframe sends the browser a PLI for its camera (RFC 4585 §6.3.1).
func (l *leg) RequestKeyframe() {
	ssrc := l.camSSRC.Load()
	if ssrc == 0 {
		return
	}
	_ = l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// capCamera tells the browser the most its camera may send (REMB, which
// browsers apply as an upper bound of their send-side estimate).
func (l *leg) capCamera(bitrate int) {
	ssrc := l.camSSRC.Load()
	if ssrc == 0 {
		return
	}
	_ = l.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(bitrate), SSRCs: []uint32{ssrc}}})
}

// addSource adds a track for source's video; the caller renegotiates.
func (l *leg) addSource(source bridge.ParticipantID) error {
	tr, err := webrtc.NewTrackLocalStaticRTP(h264Codec, "video-"+string(source), string(source))
	if err != nil {
		return err
	}
	t, err := l.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	l.readRTCP(t.Sender(), source)
	old := *l.outs.Load()
	m := make(map[bridge.ParticipantID]*videoOut, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[source] = &videoOut{track: tr, sender: t.Sender()}
	l.outs.Store(&m)
	return nil
}

// removeSource removes source's track; the caller renegotiates.
func (l *leg) removeSource(source bridge.ParticipantID) {
	old := *l.outs.Load()
	o := old[source]
	m := make(map[bridge.ParticipantID]*videoOut, len(old))
	for k, v := range old {
		if k != source {
			m[k] = v
		}
	}
	l.outs.Store(&m)
	l.asked.Delete(source)
	if o != nil {
		_ = l.pc.RemoveTrack(o.sender)
	}
}

// onTrack reads the browser's microphone and camera into the bridge.
func (l *leg) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	l.wg.Add(2)
	go func() { // RTCP must be read for the interceptors to see it
		defer l.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		defer l.wg.Done()
		video := t.Kind() == webrtc.RTPCodecTypeVideo
		if video {
			l.camSSRC.Store(uint32(t.SSRC()))
		}
		pt := t.PayloadType()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != uint8(pt) {
				continue
			}
			l.received.Add(1)
			l.recvBytes.Add(uint64(n))
			p := l.part.Load()
			if p == nil {
				continue
			}
			if video {
				p.ReceiveVideo(&pkt)
			} else {
				p.ReceiveAudio(pkt.SequenceNumber, pkt.Timestamp, pkt.Payload)
			}
		}
	}()
}

// readRTCP reads the browser's feedback on one of our senders: receiver
// reports for Quality, PLI and FIR for the source's keyframes, REMB.
func (l *leg) readRTCP(s *webrtc.RTPSender, source bridge.ParticipantID) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			pkts, _, err := s.ReadRTCP()
			if err != nil {
				return // the PeerConnection closed
			}
			for _, p := range pkts {
				switch p := p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if part := l.part.Load(); part != nil && source != "" {
						part.KeyframeRequested(source)
					}
				case *rtcp.ReceiverReport:
					if source == "" {
						l.receiverReport(p)
					}
				case *rtcp.ReceiverEstimatedMaximumBitrate:
					l.remb.Store(uint64(p.Bitrate))
				}
			}
		}
	}()
}

func (l *leg) receiverReport(rr *rtcp.ReceiverReport) {
	now := time.Now()
	for _, r := range rr.Reports {
		if rtt, ok := roundTrip(now, r.LastSenderReport, r.Delay); ok {
			us := uint64(rtt.Microseconds())
			l.rttSum.Add(us)
			l.rttN.Add(1)
			for {
				m := l.rttMax.Load()
				if us <= m || l.rttMax.CompareAndSwap(m, us) {
					break
				}
			}
		}
		l.lost.Store(uint64(r.TotalLost))
		us := uint64(r.Jitter) * 1_000_000 / uint64(media.Opus.ClockRate)
		l.jitterSum.Add(us)
		l.jitterN.Add(1)
		for {
			m := l.jitterMax.Load()
			if us <= m || l.jitterMax.CompareAndSwap(m, us) {
				break
			}
		}
	}
}

// roundTrip is the round-trip time a receiver report gives (RFC 3550
// §6.4.1): its arrival time, less the last SR's time (lsr, the middle 32
// bits of its NTP timestamp) and the receiver's delay since (dlsr), all in
// 1/65536 s. ok is false without an SR yet, or for a negative result.
func roundTrip(arrival time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	a := ntpMiddle(arrival)
	d := int32(a - lsr - dlsr)
	if d < 0 {
		return 0, false
	}
	return time.Duration(int64(d) * int64(time.Second) >> 16), true
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp (RFC 5905 §6).
func ntpMiddle(t time.Time) uint32 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix()) + unixToNTP
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32(secs<<16 | frac>>16)
}

// close ends the PeerConnection and waits for its readers. It is idempotent.
func (l *leg) close() {
	l.closeOnce.Do(func() {
		_ = l.pc.Close()
		l.wg.Wait()
	})
}

var (
	_ bridge.Leg      = (*leg)(nil)
	_ bridge.VideoLeg = (*leg)(nil)
)
