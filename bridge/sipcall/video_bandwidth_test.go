package sipcall

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestAReceiversTMMBRLowersWhatTheOthersAreAskedToSend: one endpoint of a
// room says (TMMBR) it takes 300 kbit/s; the other's reports then ask it
// (TMMBR) for no more than that instead of the 1.5 Mbit/s ceiling.
func TestAReceiversTMMBRLowersWhatTheOthersAreAskedToSend(t *testing.T) {
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)
	var uas []*testUA
	var legs []*call
	for range 2 {
		ua := newTestUA(t)
		offer := ua.offer("m=audio $PORT RTP/AVP 0",
			"m=video "+itoa(int(ua.rtp.rtcpAddr().Port())-1)+" RTP/AVPF 96", "a=rtpmap:96 H264/90000",
			"a=fmtp:96 profile-level-id=42e01f;packetization-mode=1", "a=rtcp-fb:96 ccm tmmbr", "a=rtcp:"+itoa(int(ua.rtp.rtcpAddr().Port())))
		sess, res := ua.invite(s.Server, "1234", offer)
		if res.StatusCode != 200 {
			t.Fatalf("INVITE = %d", res.StatusCode)
		}
		_ = sess.Ack(ua.ctx())
		uas = append(uas, ua)
		legs = append(legs, rooms.last().leg.(*call))
	}
	a, b := legs[0], legs[1]
	// Each endpoint sends its video so that our reports are about it.
	for i, ua := range uas {
		_, _ = ua.rtp.conn.WriteToUDPAddrPort(rtpPacket(96, 1, []byte{0x65, 1}), localhost(legs[i].video.localPort()))
		waitFor(t, "the endpoint's video", func() bool { v := legs[i].video; v.mu.Lock(); defer v.mu.Unlock(); return v.rx.started })
	}
	b.video.mu.Lock()
	bSSRC := b.video.ssrc
	b.video.mu.Unlock()
	tmmbr := appendTMMB(nil, fmtTMMBR, 0x1234, tmmbEntry{SSRC: bSSRC, Bitrate: 300000, Overhead: 40})
	_, _ = uas[1].rtp.rtcp.WriteToUDPAddrPort(tmmbr, localhost(b.video.localPort()+1))
	waitFor(t, "bob's TMMBR to be taken", func() bool { return b.video.peerLimit() == 300 })
	_ = uas[1].rtp.readRTCP() // our TMMBN to bob

	uas[0].rtp.sendRTCP(a.video.localPort(), &rtcp.ReceiverReport{SSRC: 0x1234}) // latches alice's RTCP
	waitFor(t, "alice's RTCP to latch", func() bool { a.video.mu.Lock(); defer a.video.mu.Unlock(); return a.video.rtcpLatch })
	a.video.sendReport(time.Now())
	// Alice's periodic report may come first: both carry the limit, read
	// until one with a TMMBR.
	found := false
	var got []byte
	for range 3 {
		if found {
			break
		}
		got = uas[0].rtp.readRTCP()
		for off := 0; off+4 <= len(got); {
			n := (int(got[off+2])<<8|int(got[off+3]))*4 + 4
			if off+n > len(got) {
				break
			}
			if _, e, ok := parseTMMBR(got[off : off+n]); ok {
				found = true
				if e.Bitrate > 300000 || e.Bitrate < 290000 {
					t.Errorf("alice was asked for %d bit/s; want bob's 300000", e.Bitrate)
				}
			}
			off += n
		}
	}
	if !found {
		t.Fatalf("alice's report %x has no TMMBR", got)
	}
}
