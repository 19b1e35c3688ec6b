package sipcall

import (
	"net/netip"
	"path/filepath"
	"testing"
)

// FuzzNegotiate feeds arbitrary bodies through what an INVITE's offer
// goes through: body extraction, parsing, negotiation, our answer, and
// for a failed negotiation the late-offer answer path. Whatever the input,
// the outcome is an answer that parses again or an error; never a panic.
func FuzzNegotiate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.s[id]p"))
	for _, p := range files {
		f.Add("application/sdp", fixtureBody(f, p))
	}
	f.Add("application/sdp", offerSDP("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0",
		"m=audio 1 RTP/AVPF 96 101", "a=rtpmap:96 opus/48000/2", "a=rtcp-mux", "a=rtcp:99999", "a=sendonly"))
	f.Add(`multipart/mixed; boundary="x"`, []byte("--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--x--\r\n"))
	local := localMedia{Addr: netip.MustParseAddr("192.0.2.1"), Port: 40000, SessionID: 1, Version: 1}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		raw, err := sessionBody(contentType, body)
		if err != nil || raw == nil {
			return
		}
		sd, err := parseSDP(raw)
		if err != nil {
			return
		}
		m, err := negotiateOffer(sd)
		if err != nil {
			if _, err := negotiateAnswer(sd, audioPreference); err == nil {
				return
			}
			return
		}
		ans, err := buildAnswer(sd, m, local)
		if err != nil {
			t.Fatalf("no answer to a negotiated offer: %v", err)
		}
		if _, err := parseSDP(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
	})
}
