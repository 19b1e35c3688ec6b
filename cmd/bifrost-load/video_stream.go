package main

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// videoStream is one call's video: its own UDP socket (RTP and RTCP
// multiplexed, RFC 5761), the synthetic H.264 sender, ticked by the pacer
// and answering keyframe requests at once, and the receiver of the
// bridge's switched stream (one goroutine reading the socket).
type videoStream struct {
	id    uint32 // the call's number: the source id in every frame tag
	conn  *net.UDPConn
	ans   videoAnswer
	ssrc  uint32
	cname string
	run   *videoRun
	bits  *videoBitstream

	mu sync.Mutex // guards tx: the pacer's Tick and keyframe requests
	tx videoTx

	sent, sentOctets     atomic.Uint64
	framesSent, keysSent atomic.Uint64
	keyRequests          atomic.Uint64
	lastKeyRequest       atomic.Int64 // Unix nanoseconds; 0 for none yet

	rx rxStats
	sw switchStats

	recvDone  chan struct{}
	closeOnce sync.Once
}

// videoTx is the sender's state, guarded by videoStream.mu.
type videoTx struct {
	started  bool
	base     time.Time // when frame 0 was due
	frames   int64     // frames sent or skipped
	seq      uint16
	ts0      uint32
	frameNum uint32 // frames since the last IDR
	idrPicID uint32
	lastKey  time.Time
	// keyPending: a keyframe request came too soon after the last
	// keyframe; the next frame the pacer sends is one.
	keyPending bool
	nextRTCP   time.Time
	prefix     [64]byte // the slice NAL unit's start: header, slice header, tag
	sei        [40]byte
	buf        [maxPacket]byte
	rtcpBuf    [512]byte
}

// newVideoStream starts the receiver of a call's video socket; the pacer
// starts the sender with its first Tick.
func newVideoStream(run *videoRun, id int, conn *net.UDPConn, ans videoAnswer, cname string) *videoStream {
	v := &videoStream{
		id: uint32(id), conn: conn, ans: ans, ssrc: rand.Uint32(), cname: cname, run: run,
		bits: sharedBitstream(), recvDone: make(chan struct{}),
	}
	v.tx.seq = uint16(rand.Uint32())
	v.tx.ts0 = rand.Uint32()
	v.tx.idrPicID = rand.Uint32N(16)
	go v.receive()
	return v
}

// Tick sends the frames due by now at videoFPS (the first one an IDR),
// catching up at most maxFrameCatchUp after a late tick, and an RTCP
// report when its time has come. It allocates nothing.
func (v *videoStream) Tick(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tx.started {
		v.tx.started, v.tx.base = true, now
		v.tx.nextRTCP = now.Add(jittered(rtcpInterval))
		v.sendFrameLocked(true)
	}
	due := int64(now.Sub(v.tx.base)/frameInterval) + 1 - v.tx.frames
	if due > maxFrameCatchUp {
		v.tx.frames += due - maxFrameCatchUp
		due = maxFrameCatchUp
	}
	for range due {
		v.sendFrameLocked(v.tx.keyPending)
	}
	if !now.Before(v.tx.nextRTCP) {
		v.sendReportLocked(now)
		v.tx.nextRTCP = now.Add(jittered(rtcpInterval))
	}
}

// KeyframeRequested answers a PLI, FIR or SIP INFO picture_fast_update at
// once with SPS, PPS and an IDR, as the stream's next frame: an encoder
// that is asked for a keyframe makes the next frame one. A request within
// one frame interval of the last keyframe is answered by the next frame
// the pacer sends, as an encoder would (it makes at most one frame per
// interval); none is ignored, since the requester may have asked after
// that keyframe left.
func (v *videoStream) KeyframeRequested() {
	now := time.Now()
	v.keyRequests.Add(1)
	v.lastKeyRequest.Store(now.UnixNano())
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tx.started {
		return // the first frame is a keyframe anyway
	}
	if now.Sub(v.tx.lastKey) < frameInterval {
		v.tx.keyPending = true
		return
	}
	v.sendFrameLocked(true)
}

// sendFrameLocked sends the next frame: an IDR access unit (a STAP-A of
// SPS, PPS and the tag's SEI, then the IDR slice) or a P slice, the slice
// as FU-A fragments (RFC 6184 §5.8), the marker on its last packet
// (§5.1). The caller holds v.mu.
func (v *videoStream) sendFrameLocked(key bool) {
	frame := v.tx.frames
	v.tx.frames++
	ts := v.tx.ts0 + uint32(frame)*tsPerFrame
	tag := frameTag{Source: v.id, Frame: uint32(frame), Keyframe: key}
	size := pFrameBytes
	if key {
		v.tx.keyPending = false
		v.tx.frameNum = 0
		v.tx.idrPicID = (v.tx.idrPicID + 1) % 16
		size = idrFrameBytes
		v.tx.lastKey = time.Now()
		p := v.tx.buf[12:]
		p[0] = hdrSTAPA
		n := 1
		for _, nal := range [][]byte{v.bits.sps, v.bits.pps, v.tx.sei[:putSEI(v.tx.sei[:], tag)]} {
			binary.BigEndian.PutUint16(p[n:], uint16(len(nal)))
			n += 2 + copy(p[n+2:], nal)
		}
		v.writeLocked(12+n, false, ts)
		v.keysSent.Add(1)
	} else {
		v.tx.frameNum++
	}
	pn := putSliceStart(v.tx.prefix[:], key, v.tx.frameNum, v.tx.idrPicID, tag)
	v.sendNALLocked(v.tx.prefix[:pn], v.bits.filler[:size-pn], ts)
	v.framesSent.Add(1)
}

// sendNALLocked sends one NAL unit made of prefix then body: as a single
// NAL unit packet if it fits, else as FU-A fragments; the last packet
// carries the marker. The caller holds v.mu.
func (v *videoStream) sendNALLocked(prefix, body []byte, ts uint32) {
	p := v.tx.buf[12:]
	total := len(prefix) + len(body)
	if total <= maxVideoPayload {
		n := copy(p, prefix)
		n += copy(p[n:], body)
		v.writeLocked(12+n, true, ts)
		return
	}
	hdr := prefix[0]
	data := total - 1 // the unit without its header byte
	for off := 0; off < data; {
		chunk := min(maxVideoPayload-2, data-off)
		p[0] = hdr&0xe0 | nalFUA
		p[1] = hdr & 0x1f
		if off == 0 {
			p[1] |= 0x80 // S
		}
		end := off+chunk == data
		if end {
			p[1] |= 0x40 // E
		}
		copyJoined(p[2:2+chunk], prefix[1:], body, off)
		v.writeLocked(14+chunk, end, ts)
		off += chunk
	}
}

// copyJoined fills dst from the concatenation of a and b, starting off
// bytes in.
func copyJoined(dst, a, b []byte, off int) {
	if off < len(a) {
		k := copy(dst, a[off:])
		dst, off = dst[k:], 0
	} else {
		off -= len(a)
	}
	copy(dst, b[off:])
}

// writeLocked puts the RTP header in front of the payload at
// tx.buf[12:n] and sends it.
func (v *videoStream) writeLocked(n int, marker bool, ts uint32) {
	putRTPHeader(v.tx.buf[:12], marker, v.ans.PT, v.tx.seq, ts, v.ssrc)
	v.tx.seq++
	if _, err := v.conn.WriteToUDPAddrPort(v.tx.buf[:n], v.ans.Remote); err == nil {
		v.sent.Add(1)
		v.sentOctets.Add(uint64(n - 12))
	}
}

// sendReportLocked sends a sender report with a reception report block of
// the bridge's stream, and our CNAME (RFC 3550 §6.4.1).
func (v *videoStream) sendReportLocked(now time.Time) {
	rb, ok := v.rx.reportBlock(now)
	var rbp *reportBlock
	if ok {
		rbp = &rb
	}
	ts := v.tx.ts0 + uint32(now.Sub(v.tx.base)*videoClockRate/time.Second)
	n := putSenderReport(v.tx.rtcpBuf[:], v.ssrc, now, ts, uint32(v.sent.Load()), uint32(v.sentOctets.Load()), rbp, v.cname)
	_, _ = v.conn.WriteToUDPAddrPort(v.tx.rtcpBuf[:n], v.ans.RemoteRTCP)
}

// receive reads the socket until it is closed. It allocates nothing per
// packet.
func (v *videoStream) receive() {
	defer close(v.recvDone)
	buf := make([]byte, maxPacket)
	for {
		n, _, err := v.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		v.handle(buf[:n], time.Now())
	}
}

// handle takes one received datagram: RTCP (a keyframe request is
// answered at once), or RTP of the bridge's switched stream, which updates
// the receiver statistics and the switch observations.
func (v *videoStream) handle(b []byte, now time.Time) {
	if isRTCP(b) {
		ev := parseRTCP(b)
		if ev.SR {
			v.rx.senderReport(ev.NTPMiddle, now)
		} else {
			v.rx.countRTCP()
		}
		if ev.KeyRequest {
			v.KeyframeRequested()
		}
		return
	}
	payload, ok := rtpPayload(b)
	if !ok {
		return
	}
	if b[1]&0x7f != v.ans.PT {
		v.rx.countOther()
		return
	}
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	arrival := uint32(now.Sub(v.run.start) * videoClockRate / time.Second)
	v.rx.update(ssrc, seq, ts, arrival)
	v.sw.packet(v, seq, b[1]&0x80 != 0, payload, now)
}

// rtpPayload returns the payload of an RTP packet (RFC 3550 §5.1): after
// the CSRCs and the header extension, without padding; false for what is
// not one.
func rtpPayload(b []byte) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 {
		end -= int(b[end-1])
	}
	if off > end {
		return nil, false
	}
	return b[off:end], true
}

// Close stops the receiver and waits for it; the pacer must have let go.
// It is idempotent.
func (v *videoStream) Close() error {
	v.closeOnce.Do(func() { _ = v.conn.Close() })
	<-v.recvDone
	return nil
}
