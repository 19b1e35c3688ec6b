package main

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// frameDuration is one audio frame, the pacer's tick.
const frameDuration = 20 * time.Millisecond

// maxPacket is the largest datagram sent or received.
const maxPacket = 1500

// rtcpInterval is the mean time between our RTCP reports; each is sent
// at a random 0.5 to 1.5 times it (RFC 3550 §6.3.1).
const rtcpInterval = 5 * time.Second

// stream is one call's media: a UDP socket carrying RTP and RTCP, the
// audio sender (ticked by the pacer), and the receiver (one goroutine per
// call, reading the socket until it is closed).
type stream struct {
	conn  *net.UDPConn
	loop  *audioLoop
	ans   answer
	ssrc  uint32
	cname string
	start time.Time // origin of the arrival clock for jitter
	video VideoSource
	id    int           // the call's number, for the talk rotation
	talk  *talkSchedule // nil: the speech loop, not taking turns

	tx txState // owned by the pacer while the stream is added

	mu       sync.Mutex // guards digits and dtmfDone
	digits   []byte
	dtmfDone chan struct{}

	rx rxStats

	sent, sentOctets atomic.Uint64
	firstRTP         chan struct{} // closed on the first audio packet received
	gotFirst         atomic.Bool

	recvDone chan struct{}
}

// txState is the sender's state, touched only by the pacer goroutine.
type txState struct {
	seq       uint16
	ts        uint32
	frames    int64 // frames sent or skipped since baseFrame
	baseFrame int64 // the pacer's frame when the stream was added
	loopPos   int
	first     bool
	talking   bool // it is this call's turn to talk
	dtmf      dtmfState
	nextRTCP  time.Time
	buf       [maxPacket]byte
	rtcpBuf   [512]byte
}

// listenStream binds the call's socket on ip (port chosen by the kernel).
func listenStream(ip netip.Addr) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
}

// newStream prepares the media of a call whose answer is ans, with an
// optional video source, and starts its receiver. The caller adds it to
// the pacer to start sending.
func newStream(conn *net.UDPConn, loop *audioLoop, ans answer, cname string, start time.Time, video VideoSource) *stream {
	s := &stream{
		video:    video,
		conn:     conn,
		loop:     loop,
		ans:      ans,
		ssrc:     rand.Uint32(),
		cname:    cname,
		start:    start,
		digits:   make([]byte, 0, 32),
		firstRTP: make(chan struct{}),
		recvDone: make(chan struct{}),
	}
	s.tx.seq = uint16(rand.Uint32())
	s.tx.ts = rand.Uint32()
	s.tx.first = true
	s.tx.loopPos = rand.IntN(len(loop.frames)) // callers are not in unison
	s.tx.nextRTCP = time.Now().Add(jittered(rtcpInterval))
	go s.receive()
	return s
}

func jittered(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// tick sends what is due at the pacer's frame: one 20 ms audio or
// telephone-event packet per frame, catching up after a late tick, and
// an RTCP report when its time has come. It allocates nothing.
func (s *stream) tick(now time.Time, frame int64) {
	due := frame - s.tx.baseFrame - s.tx.frames
	if due > maxCatchUp {
		skip := due - maxCatchUp
		s.tx.frames += skip
		s.tx.ts += uint32(skip) * uint32(s.loop.codec.SamplesPerFrame())
		s.tx.loopPos = (s.tx.loopPos + int(skip)) % len(s.loop.frames)
		due = maxCatchUp
	}
	if t := s.talk; t != nil {
		talking := t.talker(now) == s.id
		if talking && !s.tx.talking {
			t.lastChange.Store(now.UnixNano())
		}
		s.tx.talking = talking
	}
	for range due {
		s.sendFrame()
		s.tx.frames++
	}
	if s.video != nil {
		s.video.Tick(now)
	}
	if !now.Before(s.tx.nextRTCP) {
		s.sendReport(now)
		s.tx.nextRTCP = now.Add(jittered(rtcpInterval))
	}
}

// sendFrame sends one frame's packet: a telephone-event while a digit is
// being keyed (RFC 4733 §2.5), the next frame of speech otherwise.
func (s *stream) sendFrame() {
	spf := uint32(s.loop.codec.SamplesPerFrame())
	defer func() {
		s.tx.ts += spf
		s.tx.loopPos = (s.tx.loopPos + 1) % len(s.loop.frames)
	}()
	d := &s.tx.dtmf
	if !d.active && d.gap == 0 {
		s.nextDigit()
	}
	if d.active {
		end := d.step >= dtmfTonePackets
		dur := uint32(min(d.step+1, dtmfTonePackets)) * spf
		b := s.tx.buf[:16]
		putRTPHeader(b, d.step == 0, s.ans.EventPT, s.tx.seq, d.startTS, s.ssrc)
		putEvent(b[12:], d.code, end, uint16(dur))
		s.write(b, 4)
		d.step++
		if d.step >= dtmfTonePackets+dtmfEndPackets {
			d.active, d.gap = false, dtmfGapFrames
			s.digitSent()
		}
		return
	}
	if d.gap > 0 {
		d.gap--
	}
	payload := s.loop.frames[s.tx.loopPos]
	if s.talk != nil {
		payload = s.talk.frame(s.tx.talking, s.tx.loopPos)
	}
	putRTPHeader(s.tx.buf[:12], s.tx.first, s.ans.PT, s.tx.seq, s.tx.ts, s.ssrc)
	n := 12 + copy(s.tx.buf[12:], payload)
	s.write(s.tx.buf[:n], len(payload))
	s.tx.first = false
}

// write sends one RTP packet and counts it.
func (s *stream) write(b []byte, payloadLen int) {
	s.tx.seq++
	if _, err := s.conn.WriteToUDPAddrPort(b, s.ans.Remote); err == nil {
		s.sent.Add(1)
		s.sentOctets.Add(uint64(payloadLen))
	}
}

// nextDigit starts keying the next queued digit, if any.
func (s *stream) nextDigit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.digits) > 0 {
		c := s.digits[0]
		s.digits = s.digits[:copy(s.digits, s.digits[1:])]
		if code, ok := eventCode(c); ok {
			s.tx.dtmf = dtmfState{active: true, code: code, startTS: s.tx.ts}
			return
		}
	}
}

// digitSent signals the waiter of sendDigits once the queue is empty.
func (s *stream) digitSent() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.digits) == 0 && s.dtmfDone != nil {
		close(s.dtmfDone)
		s.dtmfDone = nil
	}
}

// sendDigits queues digits to be keyed as RFC 4733 telephone-events and
// returns a channel closed once the last one's end packets are sent.
func (s *stream) sendDigits(digits string) (<-chan struct{}, error) {
	if !s.ans.HasEvent {
		return nil, errors.New("the bridge did not answer telephone-event: cannot key the PIN")
	}
	done := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.digits = append(s.digits, digits...)
	if s.dtmfDone != nil {
		close(s.dtmfDone)
	}
	s.dtmfDone = done
	return done, nil
}

// sendReport sends a sender report with a reception report block when
// we have received anything, and our CNAME (RFC 3550 §6.4.1).
func (s *stream) sendReport(now time.Time) {
	rb, ok := s.rx.reportBlock(now)
	var rbp *reportBlock
	if ok {
		rbp = &rb
	}
	n := putSenderReport(s.tx.rtcpBuf[:], s.ssrc, now, s.tx.ts, uint32(s.sent.Load()), uint32(s.sentOctets.Load()), rbp, s.cname)
	_, _ = s.conn.WriteToUDPAddrPort(s.tx.rtcpBuf[:n], s.ans.RemoteRTCP)
}

// sendBye sends an RTCP BYE; call it once the pacer has let go of s.
func (s *stream) sendBye() {
	n := putBye(s.tx.rtcpBuf[:], s.ssrc)
	_, _ = s.conn.WriteToUDPAddrPort(s.tx.rtcpBuf[:n], s.ans.RemoteRTCP)
}

// receive reads the socket until it is closed: audio updates the
// statistics, RTCP notes sender reports and keyframe requests. It
// allocates nothing per packet.
func (s *stream) receive() {
	defer close(s.recvDone)
	buf := make([]byte, maxPacket)
	for {
		n, _, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.handle(buf[:n], time.Now())
	}
}

// handle takes one received datagram.
func (s *stream) handle(b []byte, now time.Time) {
	if isRTCP(b) {
		ev := parseRTCP(b)
		if ev.SR {
			s.rx.senderReport(ev.NTPMiddle, now)
		} else {
			s.rx.countRTCP()
		}
		if ev.KeyRequest && s.video != nil {
			s.video.KeyframeRequested()
		}
		return
	}
	if len(b) < 12 || b[0]>>6 != 2 {
		return
	}
	pt := b[1] & 0x7f
	if pt != s.ans.PT {
		s.rx.countOther()
		return
	}
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	arrival := uint32(int64(now.Sub(s.start)) * int64(s.loop.codec.ClockRate) / int64(time.Second))
	s.rx.update(ssrc, seq, ts, arrival)
	if !s.gotFirst.Load() && s.gotFirst.CompareAndSwap(false, true) {
		close(s.firstRTP)
	}
}

// close stops the receiver and waits for it; the pacer must have let go.
func (s *stream) close() {
	_ = s.conn.Close()
	<-s.recvDone
	if s.video != nil {
		_ = s.video.Close()
	}
}

// jitterMS is the receiver's interarrival jitter in milliseconds.
func (s *stream) jitterMS(snap rxSnapshot) float64 {
	return snap.JitterUnits * 1000 / float64(s.loop.codec.ClockRate)
}

// putRTPHeader writes a 12-byte RTP header (RFC 3550 §5.1) into b.
func putRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 2 << 6
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}
