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

// TestCallThroughProxy checks that a call a proxy recorded a route for
// (Record-Route, RFC 3261 §16.6 step 4) has the route copied into our 200
// and our BYE sent to the proxy with a Route header (§12.2.1.1), not to
// the caller's Contact.
func TestCallThroughProxy(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	proxy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	route := fmt.Sprintf("<sip:127.0.0.1:%d;lr>", proxy.LocalAddr().(*net.UDPAddr).Port)

	c := newClient(t)
	req := newRequest(t, s.Server, sip.INVITE, "UDP")
	req.Recipient.User = "1234"
	req.AppendHeader(sip.NewHeader("Contact", "<sip:caller@192.0.2.77:5060>"))
	req.AppendHeader(sip.NewHeader("Record-Route", route))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offerSDP("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", "m=audio 5004 RTP/AVP 0"))
	res := do(t, c, req)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d, want 200", res.StatusCode)
	}
	if got := headerValue(res, "Record-Route"); got != route {
		t.Errorf("Record-Route in 200 = %q, want %q", got, route)
	}
	if err := c.WriteRequest(inDialogRequest(req, res, sip.ACK, req.CSeq().SeqNo)); err != nil {
		t.Fatal(err)
	}
	p := rooms.last()
	leg := p.leg.(*call)
	<-leg.answered
	p.leg.Hangup(bridge.EndKicked, 0)

	buf := make([]byte, 4096)
	_ = proxy.SetReadDeadline(time.Now().Add(waitTimeout))
	n, from, err := proxy.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no BYE reached the proxy: %v", err)
	}
	msg, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	bye, ok := msg.(*sip.Request)
	if !ok || bye.Method != sip.BYE {
		t.Fatalf("proxy got %s, want a BYE", buf[:n])
	}
	if got := bye.Recipient.Host; got != "192.0.2.77" {
		t.Errorf("BYE request-URI host = %s, want the caller's Contact 192.0.2.77", got)
	}
	if r := bye.GetHeader("Route"); r == nil || !strings.Contains(r.Value(), route[1:len(route)-1]) {
		t.Errorf("BYE Route = %v, want %s", r, route)
	}
	ok200 := sip.NewResponseFromRequest(bye, 200, "OK", nil)
	_, _ = proxy.WriteToUDP([]byte(ok200.String()), from)
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}

// inDialogRequest builds a request in the dialog of req and its 2xx res,
// sent straight to the server's Contact.
func inDialogRequest(req *sip.Request, res *sip.Response, method sip.RequestMethod, cseq uint32) *sip.Request {
	r := sip.NewRequest(method, res.Contact().Address)
	r.SetTransport(req.Transport())
	r.AppendHeader(req.From())
	r.AppendHeader(res.To())
	r.AppendHeader(req.CallID())
	r.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return r
}

// TestCallOverIPv6 places a call to a server on ::1 with an IPv6 offer:
// the answer announces our IPv6 address (c=IN IP6, RFC 4566 §5.7).
func TestCallOverIPv6(t *testing.T) {
	if c, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		_ = c.Close()
	}
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, func(c *Config) { c.Addr = "[::1]:0" })
	c := newClient(t)
	req := newRequest(t, s.Server, sip.INVITE, "UDP")
	req.Recipient.User = "1234"
	req.Recipient.Host = "[::1]"
	req.AppendHeader(sip.NewHeader("Contact", "<sip:caller@[::1]:5999>"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offerSDP("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0", "m=audio 5004 RTP/AVP 9"))
	res := do(t, c, req)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE over IPv6 = %d, want 200", res.StatusCode)
	}
	if ct := res.Contact(); ct == nil || !strings.Contains(ct.Value(), "[::1]:") {
		t.Errorf("Contact = %v, want the IPv6 address in brackets", ct)
	}
	if body := string(res.Body()); !strings.Contains(body, "c=IN IP6 ::1") {
		t.Errorf("answer does not announce ::1:\n%s", body)
	}
	if err := c.WriteRequest(inDialogRequest(req, res, sip.ACK, req.CSeq().SeqNo)); err != nil {
		t.Fatal(err)
	}
	if bye := do(t, c, inDialogRequest(req, res, sip.BYE, req.CSeq().SeqNo+1)); bye.StatusCode != 200 {
		t.Errorf("BYE = %d, want 200", bye.StatusCode)
	}
}
