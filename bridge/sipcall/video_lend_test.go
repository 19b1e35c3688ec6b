package sipcall

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// testVideoKeys are SDES keys of suite for a video session under test,
// and the peer's contexts: dec reads what the session sends, enc writes
// what the peer sends it.
func testVideoKeys(t *testing.T, suite string) (k *sdesKeys, dec, enc *srtp.Context) {
	t.Helper()
	s, ok := suiteByName(suite)
	if !ok {
		t.Fatalf("no suite %s", suite)
	}
	local, err := newMasterKey(s)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := newMasterKey(s)
	if err != nil {
		t.Fatal(err)
	}
	k = &sdesKeys{Tag: 1, Suite: s, Local: local, Remote: []sdesKey{{Material: remote}}}
	if dec, err = srtp.CreateContext(local[:s.KeyLen], local[s.KeyLen:], s.Profile); err != nil {
		t.Fatal(err)
	}
	if enc, err = srtp.CreateContext(remote[:s.KeyLen], remote[s.KeyLen:], s.Profile); err != nil {
		t.Fatal(err)
	}
	return k, dec, enc
}

// TestVideoSendsTheSamePacketsWhateverTheyAreBuiltIn: a packet is built in
// the NACK history when the peer negotiated generic NACK, in a queue slot
// (SRTP in place, or a copy), or as our header and a payload a reader
// lends: what the peer receives is the same in every case, what it NACKs
// comes again, and a payload that is not lent may change once sent.
func TestVideoSendsTheSamePacketsWhateverTheyAreBuiltIn(t *testing.T) {
	for _, suite := range []string{"", "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		for _, nack := range []bool{false, true} {
			for _, lent := range []bool{false, true} {
				name := fmt.Sprintf("crypto %q, NACK %v, payload lent %v", suite, nack, lent)
				t.Run(name, func(t *testing.T) { testVideoSendBuild(t, suite, nack, lent) })
			}
		}
	}
}

func testVideoSendBuild(t *testing.T, suite string, nack, lent bool) {
	peer := listenLocal(t, "udp4", "127.0.0.1:0")
	addr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	cfg := mediaConfig{RTCPInterval: time.Hour}
	var dec, enc *srtp.Context
	if suite != "" {
		var k *sdesKeys
		k, dec, enc = testVideoKeys(t, suite)
		c, err := newSRTPCrypto(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Crypto = c
	}
	out := &videoOut{}
	m := videoMedia{PT: 96, FB: videoFeedback{NACK: nack, PLI: true}, Remote: addr, RemoteRTCP: addr, Direction: sendRecv}
	s, err := newVideoSession(testPool(t, 1), cfg, video.DefaultCeiling, m, videoEvents{out: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)

	// The payloads, in a reader's buffer or not.
	const n = 5
	slab := make([]byte, n*100)
	own := make([]byte, n*100)
	want := make([][]byte, n)
	lend := newLender(slab)
	out.begin(lend)
	for i := range n {
		buf := own
		if lent {
			buf = slab
		}
		p := buf[i*100 : i*100+10+i]
		for j := range p {
			p[j] = byte(0x41 + i + j)
		}
		want[i] = bytes.Clone(p)
		s.send(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(1000 + i), Timestamp: 90000, SSRC: 42, PayloadType: 111, Marker: i == n-1}, Payload: p})
		clear(own) // not lent: sent as it was
	}
	s.mu.Lock()
	shared := len(s.sendQ) == n && unsafe.SliceData(s.sendQ[0].body) == unsafe.SliceData(slab)
	history := s.history != nil
	s.mu.Unlock()
	if wantShared := lent && suite == "" && !nack; shared != wantShared {
		t.Errorf("the first queued packet points at the reader's payload: %v; want %v", shared, wantShared)
	}
	if history != nack {
		t.Errorf("NACK history kept: %v; want %v (generic NACK negotiated: %v)", history, nack, nack)
	}
	out.end(lend)

	read := func() (rtpHeader, []byte) {
		t.Helper()
		buf := make([]byte, maxPacket)
		_ = peer.SetReadDeadline(time.Now().Add(waitTimeout))
		k, err := peer.Read(buf)
		if err != nil {
			t.Fatalf("peer got no RTP: %v", err)
		}
		b := buf[:k]
		if dec != nil {
			if b, err = dec.DecryptRTP(nil, b, nil); err != nil {
				t.Fatalf("cannot decrypt what the session sent: %v", err)
			}
		}
		h, payload, err := parseRTP(b)
		if err != nil {
			t.Fatalf("bad RTP: %v", err)
		}
		return h, payload
	}
	var ssrc uint32
	for i := range n {
		h, payload := read()
		if h.PT != 96 || h.Seq != uint16(1000+i) || h.TS != 90000 || h.SSRC == 42 || h.Marker != (i == n-1) || !bytes.Equal(payload, want[i]) {
			t.Fatalf("packet %d: %+v %x; want PT 96, seq %d, timestamp 90000, our SSRC, payload %x", i, h, payload, 1000+i, want[i])
		}
		ssrc = h.SSRC
	}
	clear(slab) // the reader's next batch

	if !nack {
		return
	}
	raw, err := rtcp.Marshal([]rtcp.Packet{&rtcp.TransportLayerNack{SenderSSRC: 7, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1002})}})
	if err != nil {
		t.Fatal(err)
	}
	if enc != nil {
		if raw, err = enc.EncryptRTCP(nil, raw, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := peer.WriteToUDPAddrPort(raw, netip.AddrPortFrom(addr.Addr(), uint16(s.localPort()+1))); err != nil {
		t.Fatal(err)
	}
	if h, payload := read(); h.Seq != 1002 || h.SSRC != ssrc || !bytes.Equal(payload, want[2]) {
		t.Errorf("retransmission %+v %x; want packet 1002 again, payload %x", h, payload, want[2])
	}
}

// TestVideoForwardsWhatItReadsIntactWhileLendingItsBuffers: a source
// session whose reader lends its buffers forwards, batch after batch, to
// receivers that queue its payloads without copying them; every receiver
// gets every packet as it was sent, although the reader reuses its
// buffers for the next batch.
func TestVideoForwardsWhatItReadsIntactWhileLendingItsBuffers(t *testing.T) {
	out := &videoOut{}
	const receivers = 3
	var rxs [receivers]*videoSession
	var peers [receivers]*net.UDPConn
	for i := range rxs {
		rxs[i], peers[i] = newBatchedVideo(t, out)
	}
	src := listenLocal(t, "udp4", "127.0.0.1:0")
	srcAddr := src.LocalAddr().(*net.UDPAddr).AddrPort()
	fwd := func(pkt *rtp.Packet) {
		for _, r := range rxs {
			r.send(pkt)
		}
	}
	in, err := newVideoSession(testPool(t, 1), mediaConfig{RTCPInterval: time.Hour}, video.DefaultCeiling,
		videoMedia{PT: 96, Remote: srcAddr, RemoteRTCP: srcAddr, Direction: sendRecv}, videoEvents{packet: fwd, out: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.close)

	const frames, perFrame = 40, 8
	payload := func(seq int) []byte {
		p := make([]byte, 200+seq%50)
		for j := range p {
			p[j] = byte(seq*7 + j)
		}
		return p
	}
	to := netip.AddrPortFrom(srcAddr.Addr(), uint16(in.localPort()))
	buf := make([]byte, maxPacket)
	for f := range frames {
		// A frame at a time, so that no socket buffer overflows.
		for k := range perFrame {
			seq := f*perFrame + k
			b := make([]byte, 12)
			putRTP(b, rtpHeader{PT: 96, Seq: uint16(seq), TS: uint32(f * 3000), SSRC: 99})
			if _, err := src.WriteToUDPAddrPort(append(b, payload(seq)...), to); err != nil {
				t.Fatal(err)
			}
		}
		for i, peer := range peers {
			got := map[uint16]bool{}
			_ = peer.SetReadDeadline(time.Now().Add(waitTimeout))
			for len(got) < perFrame {
				n, err := peer.Read(buf)
				if err != nil {
					t.Fatalf("receiver %d got %d packets of frame %d: %v", i, len(got), f, err)
				}
				h, p, err := parseRTP(buf[:n])
				if err != nil {
					t.Fatalf("receiver %d: bad RTP: %v", i, err)
				}
				if int(h.Seq)/perFrame != f || !bytes.Equal(p, payload(int(h.Seq))) {
					t.Fatalf("receiver %d: packet %d, in frame %d, carries another payload than was sent", i, h.Seq, f)
				}
				got[h.Seq] = true
			}
		}
	}
}

// TestVideoSendAllocatesNothing: once its slots (and history) exist, a
// video session sends without allocating, whichever way it builds the
// packet.
func TestVideoSendAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race")
	}
	for _, tc := range []struct {
		name       string
		suite      string
		nack, lent bool
	}{
		{"plain, lent payload", "", false, true},
		{"plain, copied payload", "", false, false},
		{"SRTP in place", "AEAD_AES_128_GCM", false, true},
		{"plain with NACK history", "", true, true},
		{"SRTP with NACK history", "AES_CM_128_HMAC_SHA1_80", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer := listenLocal(t, "udp4", "127.0.0.1:0")
			addr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			cfg := mediaConfig{RTCPInterval: time.Hour}
			if tc.suite != "" {
				k, _, _ := testVideoKeys(t, tc.suite)
				c, err := newSRTPCrypto(k, nil)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Crypto = c
			}
			out := &videoOut{}
			m := videoMedia{PT: 96, FB: videoFeedback{NACK: tc.nack}, Remote: addr, RemoteRTCP: addr, Direction: sendRecv}
			s, err := newVideoSession(testPool(t, 1), cfg, video.DefaultCeiling, m, videoEvents{out: out})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.close)
			slab := make([]byte, 2*maxPacket)
			lend := newLender(slab)
			payload := make([]byte, 1100)
			if tc.lent {
				payload = slab[100:1200]
			}
			pkt := &rtp.Packet{Payload: payload}
			send := func() {
				out.begin(lend)
				pkt.SequenceNumber++
				s.send(pkt)
				s.send(pkt)
				out.end(lend)
			}
			send() // slots and history
			if allocs := testing.AllocsPerRun(50, send); allocs != 0 {
				t.Errorf("%v allocations per batch of two packets; want 0", allocs)
			}
		})
	}
}

// TestAReadersBatchEndsOnlyWhenItsLentPacketsAreWritten: a receiver's
// queue holds a copied packet of one reader's batch and a lent one of
// another's; a flush has taken the receiver from the dirty list but waits
// for its lock. The lending reader's end waits for that flush, so the
// reader's next batch (its buffer overwritten) cannot change what leaves.
func TestAReadersBatchEndsOnlyWhenItsLentPacketsAreWritten(t *testing.T) {
	out := &videoOut{}
	s, peer := newBatchedVideo(t, out)
	slab := make([]byte, maxPacket)
	copied, lent := []byte{0x41, 1, 2, 3}, slab[:4]
	copy(lent, []byte{0x41, 4, 5, 6})

	other, reader := newLender(nil), newLender(slab)
	out.begin(other)
	s.send(&rtp.Packet{Header: rtp.Header{SequenceNumber: 1}, Payload: copied}) // marks s dirty
	out.begin(reader)
	s.send(&rtp.Packet{Header: rtp.Header{SequenceNumber: 2}, Payload: lent}) // s is dirty already

	// Another flush takes s from the dirty list and waits for s.mu,
	// held for a moment by someone else.
	s.mu.Lock()
	flushed := make(chan struct{})
	go func() { out.flush(); close(flushed) }()
	waitFor(t, "the flush to take the dirty list", func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return len(out.dirty) == 0
	})
	go func() { time.Sleep(50 * time.Millisecond); s.mu.Unlock() }()

	out.end(reader)
	clear(slab) // the reader's next batch
	<-flushed
	out.end(other)

	buf := make([]byte, maxPacket)
	for _, want := range [][]byte{copied, {0x41, 4, 5, 6}} {
		_ = peer.SetReadDeadline(time.Now().Add(waitTimeout))
		n, err := peer.Read(buf)
		if err != nil {
			t.Fatalf("nothing arrived: %v", err)
		}
		if _, p, _ := parseRTP(buf[:n]); !bytes.Equal(p, want) {
			t.Errorf("payload %x; want %x, as it was when sent", p, want)
		}
	}
}
