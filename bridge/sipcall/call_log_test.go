package sipcall

import (
	"strings"
	"testing"
)

// TestCallLogs checks what a call writes to the log: its Call-ID on every
// line about it (STYLE.md's call_id, to find it in endpoints' logs and
// packet captures), and nothing that identifies the caller (bridge.LegInfo:
// remote address, user agent).
func TestCallLogs(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	sess, _, _ := connect(t, s.Server, rooms, ua, ua.defaultOffer())
	// The BYE follows the ACK only once the server took it, lest it overtake it.
	waitFor(t, "the call answered in the log", func() bool { return strings.Contains(s.log.String(), `msg="sip call answered"`) })
	if err := sess.Bye(ua.ctx()); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	waitFor(t, "the call ended in the log", func() bool { return strings.Contains(s.log.String(), `msg="sip call ended"`) })
	callID := sess.InviteRequest.CallID().Value()

	var lines []string
	for line := range strings.SplitSeq(s.log.String(), "\n") {
		if strings.Contains(line, "component=sip ") || strings.HasSuffix(line, "component=sip") {
			lines = append(lines, line)
		}
	}
	for _, msg := range []string{`msg="sip request"`, `msg="sip call answered"`, `msg="sip call ended"`} {
		found := false
		for _, line := range lines {
			if strings.Contains(line, msg) {
				found = true
				if !strings.Contains(line, "call_id="+callID) {
					t.Errorf("%s without call_id=%s: %s", msg, callID, line)
				}
			}
		}
		if !found {
			t.Errorf("no %s line in the log", msg)
		}
	}
	for _, line := range lines {
		if strings.Contains(line, " source=") || strings.Contains(line, "bifrost-test-ua") {
			t.Errorf("a log line identifies the caller (address or user agent): %s", line)
		}
	}
}
