package sipcall

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// FuzzVideoAnswer feeds arbitrary offers through video negotiation and our
// answer: whatever the input, H.264 is answered with one format whose
// fmtp reads back within the ceiling's level, the answer parses again and
// keeps the m-line count; never a panic.
func FuzzVideoAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.s[id]p"))
	for _, p := range files {
		f.Add(fixtureBody(f, p))
	}
	f.Add(offerSDP("v=0", "o=- 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0",
		"m=audio 1 RTP/AVP 0", "m=video 2 RTP/AVPF 96 97", "a=rtpmap:96 H264/90000", "a=fmtp:96 profile-level-id=640034;max-fs=99999999",
		"a=rtpmap:97 h264/90000", "a=fmtp:97 packetization-mode=1", "a=rtcp-fb:* ccm fir tmmbr", "b=TIAS:99999999999"))
	local := localMedia{Addr: netip.MustParseAddr("192.0.2.1"), Port: 40000, SessionID: 1, Version: 1}
	f.Fuzz(func(t *testing.T, body []byte) {
		sd, err := parseSDP(body)
		if err != nil {
			return
		}
		m, err := negotiateOffer(sd)
		if err != nil {
			return
		}
		v, ok := negotiateVideo(sd, video.DefaultCeiling)
		l := local
		if ok {
			l.Video = &localVideo{Media: v, Port: 40002, Ceiling: video.DefaultCeiling}
			p, err := video.ParseH264Fmtp(v.Answer.Fmtp())
			if err != nil || !p.Supported() || p.ProfileLevelID.LevelIDC > 31 {
				t.Fatalf("answer fmtp %q reads back as %+v, %v", v.Answer.Fmtp(), p, err)
			}
		}
		ans, err := buildAnswer(sd, m, l)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		back, err := parseSDP(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if len(back.MediaDescriptions) != len(sd.MediaDescriptions) {
			t.Fatalf("answer has %d m-lines, offer %d", len(back.MediaDescriptions), len(sd.MediaDescriptions))
		}
		if ok {
			checkOneH264(t, back.MediaDescriptions[v.Index])
		}
	})
}

func checkOneH264(t *testing.T, md *sdp.MediaDescription) {
	t.Helper()
	if len(md.MediaName.Formats) != 1 {
		t.Fatalf("video answered with formats %v; want one", md.MediaName.Formats)
	}
}

// FuzzVideoRTCP feeds arbitrary datagrams to a video session's RTCP
// handler (PLI, FIR, NACK, TMMBR, REMB, SR, RR) and to the TMMBR parser:
// no input may crash them.
func FuzzVideoRTCP(f *testing.F) {
	f.Add(appendTMMB(nil, fmtTMMBR, 1, tmmbEntry{SSRC: 2, Bitrate: 1500000, Overhead: 40}))
	f.Add([]byte{0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0}) // NACK
	f.Add([]byte{0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2})             // PLI
	// The session's peer is a port nobody reads: retransmissions and
	// TMMBNs go nowhere.
	peer := netip.MustParseAddrPort("127.0.0.1:9")
	m := videoMedia{PT: 96, Remote: peer, RemoteRTCP: peer, FB: videoFeedback{NACK: true, PLI: true, FIR: true, TMMBR: true, REMB: true}}
	s, err := newVideoSession(testPool(f, 1), mediaConfig{RTCPInterval: time.Hour}, video.DefaultCeiling, m, videoEvents{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.close)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseTMMBR(b)
		s.handleRTCP(b, peer, false)
	})
}
