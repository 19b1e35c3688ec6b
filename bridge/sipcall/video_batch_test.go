package sipcall

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// newBatchedVideo is a video session batched by out, sending to the
// socket it returns.
func newBatchedVideo(t *testing.T, out *videoOut) (*videoSession, *net.UDPConn) {
	t.Helper()
	peer := listenLocal(t, "udp4", "127.0.0.1:0")
	addr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	m := videoMedia{PT: 96, Remote: addr, RemoteRTCP: addr, Direction: sendRecv}
	s, err := newVideoSession(testPool(t, 1), mediaConfig{RTCPInterval: time.Hour}, video.DefaultCeiling, m, videoEvents{out: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s, peer
}

// arrived reads what arrives at c: up to want datagrams, waiting for them
// at most waitTimeout, and then any more that come within 50 ms; it
// returns how many.
func arrived(c *net.UDPConn, want int) int {
	buf := make([]byte, maxPacket)
	n := 0
	deadline := time.Now().Add(waitTimeout)
	for {
		if n >= want {
			deadline = time.Now().Add(50 * time.Millisecond)
		}
		_ = c.SetReadDeadline(deadline)
		if _, err := c.Read(buf); err != nil {
			return n
		}
		n++
	}
}

func TestVideoSendsQueueDuringAReadersBatchAndLeaveWhenItEnds(t *testing.T) {
	out := &videoOut{}
	l := newLender(nil)
	s, peer := newBatchedVideo(t, out)
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1}, Payload: []byte{0x41, 1, 2}}

	out.begin(l)
	for i := range 5 {
		pkt.SequenceNumber = uint16(i + 1)
		s.send(pkt)
	}
	if n := arrived(peer, 0); n != 0 {
		t.Errorf("%d packets left while the batch was open; want them queued", n)
	}
	out.end(l)
	if n := arrived(peer, 5); n != 5 {
		t.Errorf("%d packets arrived when the batch ended; want 5", n)
	}

	// Outside a batch, a packet leaves at once.
	s.send(pkt)
	if n := arrived(peer, 1); n != 1 {
		t.Errorf("%d packets arrived for one sent outside a batch; want 1", n)
	}

	// A full queue does not wait for the end of the batch.
	out.begin(l)
	for i := range videoQueue {
		pkt.SequenceNumber = uint16(100 + i)
		s.send(pkt)
	}
	if n := arrived(peer, videoQueue); n != videoQueue {
		t.Errorf("%d packets arrived of a full queue inside a batch; want %d", n, videoQueue)
	}
	out.end(l)
}

func TestAVideoPacketQueuedAsTheLastBatchEndsIsStillSent(t *testing.T) {
	// The send sees a batch open, the batch ends before the send marks its
	// session: the mark finds no reader busy and flushes itself.
	out := &videoOut{}
	l := newLender(nil)
	s, peer := newBatchedVideo(t, out)
	out.begin(l)
	s.mu.Lock()
	s.sendQ = append(s.sendQ, outPacket{head: s.heads[0][:]})
	s.mu.Unlock()
	out.end(l) // nothing is marked yet: nothing to flush
	s.mu.Lock()
	out.markLocked(s)
	s.mu.Unlock()
	out.flushIfIdle()
	if n := arrived(peer, 1); n != 1 {
		t.Errorf("%d packets arrived; want the queued one", n)
	}
}
