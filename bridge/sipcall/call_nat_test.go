package sipcall

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
)

// natCaller is a caller behind NAT: it announces a private address in
// Via, Contact and SDP and really sends from a socket on 127.0.0.1.
type natCaller struct {
	t    *testing.T
	conn *net.UDPConn
	srv  *net.UDPAddr
}

func (n *natCaller) send(msg string) {
	n.t.Helper()
	if _, err := n.conn.WriteToUDP([]byte(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")), n.srv); err != nil {
		n.t.Fatal(err)
	}
}

// read returns the next message the caller receives, skipping 100 Trying.
func (n *natCaller) read() sip.Message {
	n.t.Helper()
	buf := make([]byte, 8192)
	for {
		_ = n.conn.SetReadDeadline(time.Now().Add(waitTimeout))
		k, err := n.conn.Read(buf)
		if err != nil {
			n.t.Fatalf("caller behind NAT got nothing: %v", err)
		}
		msg, err := sip.NewParser().ParseSIP(buf[:k])
		if err != nil {
			n.t.Fatal(err)
		}
		if res, ok := msg.(*sip.Response); ok && res.StatusCode == 100 {
			continue
		}
		return msg
	}
}

// TestCallFromBehindNAT checks RFC 3581: the response goes to the source
// of the request with received and rport filled in, and the BYE goes to
// where the INVITE came from, not to the private Contact.
func TestCallFromBehindNAT(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := &natCaller{t: t, conn: conn, srv: s.UDPAddr().(*net.UDPAddr)}
	srcPort := conn.LocalAddr().(*net.UDPAddr).Port
	sdpBody := strings.Join([]string{"v=0", "o=- 1 1 IN IP4 10.0.0.99", "s=-", "c=IN IP4 10.0.0.99", "t=0 0", "m=audio 7078 RTP/AVP 0", ""}, "\r\n")
	n.send(fmt.Sprintf(`INVITE sip:1234@%[1]s SIP/2.0
Via: SIP/2.0/UDP 10.0.0.99:5060;rport;branch=z9hG4bKnat1
Max-Forwards: 70
From: <sip:alice@example.com>;tag=nat1
To: <sip:1234@%[1]s>
Call-ID: nat-call-1
CSeq: 1 INVITE
Contact: <sip:alice@10.0.0.99:5060>
Content-Type: application/sdp
Content-Length: %[2]d

%[3]s`, s.UDPAddr(), len(sdpBody), strings.ReplaceAll(sdpBody, "\r\n", "\n")))
	res, ok := n.read().(*sip.Response)
	if !ok || res.StatusCode != 200 {
		t.Fatalf("got %v, want 200 at the NAT's public side", res)
	}
	via := res.Via()
	if rec, _ := via.Params.Get("received"); rec != "127.0.0.1" {
		t.Errorf("Via received = %q, want 127.0.0.1", rec)
	}
	if rport, _ := via.Params.Get("rport"); rport != fmt.Sprint(srcPort) {
		t.Errorf("Via rport = %q, want %d", rport, srcPort)
	}
	toTag, _ := res.To().Params.Get("tag")
	n.send(fmt.Sprintf(`ACK sip:1234@%[1]s SIP/2.0
Via: SIP/2.0/UDP 10.0.0.99:5060;rport;branch=z9hG4bKnat2
Max-Forwards: 70
From: <sip:alice@example.com>;tag=nat1
To: <sip:1234@%[1]s>;tag=%[2]s
Call-ID: nat-call-1
CSeq: 1 ACK
Content-Length: 0

`, s.UDPAddr(), toTag))
	waitFor(t, "the participant", func() bool { return rooms.last() != nil })
	p := rooms.last()
	<-p.leg.(*call).answered

	t.Run("the 200 to a re-INVITE is retransmitted until the ACK", func(t *testing.T) {
		n.send(fmt.Sprintf(`INVITE sip:1234@%[1]s SIP/2.0
Via: SIP/2.0/UDP 10.0.0.99:5060;rport;branch=z9hG4bKnat3
Max-Forwards: 70
From: <sip:alice@example.com>;tag=nat1
To: <sip:1234@%[1]s>;tag=%[2]s
Call-ID: nat-call-1
CSeq: 2 INVITE
Contact: <sip:alice@10.0.0.99:5060>
Content-Type: application/sdp
Content-Length: %[3]d

%[4]s`, s.UDPAddr(), toTag, len(sdpBody), strings.ReplaceAll(sdpBody, "\r\n", "\n")))
		for i := range 2 {
			res, ok := n.read().(*sip.Response)
			if !ok || res.StatusCode != 200 || res.CSeq().SeqNo != 2 {
				t.Fatalf("transmission %d: got %v, want the 200 to the re-INVITE", i+1, res)
			}
		}
		n.send(fmt.Sprintf(`ACK sip:1234@%[1]s SIP/2.0
Via: SIP/2.0/UDP 10.0.0.99:5060;rport;branch=z9hG4bKnat4
Max-Forwards: 70
From: <sip:alice@example.com>;tag=nat1
To: <sip:1234@%[1]s>;tag=%[2]s
Call-ID: nat-call-1
CSeq: 2 ACK
Content-Length: 0

`, s.UDPAddr(), toTag))
	})

	p.leg.Hangup(bridge.EndKicked, 0)
	var bye *sip.Request
	for bye == nil {
		switch m := n.read().(type) {
		case *sip.Request:
			bye = m
		case *sip.Response:
			// A 200 retransmission that crossed the ACK.
			if m.CSeq().MethodName != sip.INVITE {
				t.Fatalf("got %v, want our BYE", m)
			}
		}
	}
	if bye.Method != sip.BYE {
		t.Fatalf("got %v, want our BYE at the NAT's public side", bye)
	}
	n.send(sip.NewResponseFromRequest(bye, 200, "OK", nil).String())
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}

// TestCloseEndsCalls checks that shutting the server down hangs up every
// call with BYE and EndShutdown.
func TestCloseEndsCalls(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	_, _, p := connect(t, s.Server, rooms, ua, ua.defaultOffer())
	<-p.leg.(*call).answered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ua.byes:
	case <-time.After(waitTimeout):
		t.Fatal("no BYE at shutdown")
	}
	if _, _, left, reason, _ := p.state(); !left || reason != bridge.EndShutdown {
		t.Errorf("participant left %v reason %s, want shutdown", left, reason)
	}
	if s.pool.inUse() != 0 {
		t.Error("ports still in use after Close")
	}
}
