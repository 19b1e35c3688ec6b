package sipcall

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// offerSDP joins lines into an SDP body.
func offerSDP(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func TestNegotiateOffer(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 198.51.100.7", "s=-", "c=IN IP4 198.51.100.7", "t=0 0"}
	tests := []struct {
		name  string
		lines []string
		check func(t *testing.T, m audioMedia)
	}{
		{
			name:  "Opus is preferred over G.722 and G.711 and its FEC and DTX wishes are kept",
			lines: []string{"m=audio 5004 RTP/AVP 0 9 96", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1; usedtx=1"},
			check: func(t *testing.T, m audioMedia) {
				if m.Codec != codecOpus || m.PT != 96 || !m.OpusFEC || !m.OpusDTX {
					t.Errorf("got %v PT %d fec %v dtx %v, want opus PT 96 with FEC and DTX", m.Codec, m.PT, m.OpusFEC, m.OpusDTX)
				}
			},
		},
		{
			name:  "G.722 without rtpmap is taken at its static payload type with an 8000 Hz clock",
			lines: []string{"m=audio 5004 RTP/AVP 8 9 0"},
			check: func(t *testing.T, m audioMedia) {
				if m.Codec != codecG722 || m.PT != 9 || m.Codec.ClockRate != 8000 {
					t.Errorf("got %v PT %d, want G722/8000 PT 9", m.Codec, m.PT)
				}
			},
		},
		{
			name:  "PCMA is taken when it is all there is",
			lines: []string{"m=audio 5004 RTP/AVP 18 8", "a=rtpmap:18 G729/8000"},
			check: func(t *testing.T, m audioMedia) {
				if m.Codec != codecPCMA {
					t.Errorf("got %v, want PCMA", m.Codec)
				}
			},
		},
		{
			name: "telephone-event is kept at every offered rate, once per rate",
			lines: []string{"m=audio 5004 RTP/AVP 96 101 102 103", "a=rtpmap:96 opus/48000/2",
				"a=rtpmap:101 telephone-event/48000", "a=rtpmap:102 telephone-event/8000", "a=rtpmap:103 telephone-event/8000"},
			check: func(t *testing.T, m audioMedia) {
				if len(m.Events) != 2 || m.Events[0].PT != 101 || m.Events[1].PT != 102 {
					t.Errorf("events = %+v, want PT 101 at 48000 and 102 at 8000", m.Events)
				}
			},
		},
		{
			name:  "sendonly is answered recvonly",
			lines: []string{"m=audio 5004 RTP/AVP 0", "a=sendonly"},
			check: wantDirection(recvOnly),
		},
		{
			name:  "recvonly is answered sendonly",
			lines: []string{"m=audio 5004 RTP/AVP 0", "a=recvonly"},
			check: wantDirection(sendOnly),
		},
		{
			name:  "inactive is answered inactive",
			lines: []string{"a=inactive", "m=audio 5004 RTP/AVP 0"},
			check: wantDirection(inactive),
		},
		{
			name:  "no direction means sendrecv",
			lines: []string{"m=audio 5004 RTP/AVP 0"},
			check: wantDirection(sendRecv),
		},
		{
			name:  "c= at media level wins over the session's, and RTCP goes to the next port",
			lines: []string{"m=audio 5004 RTP/AVP 0", "c=IN IP4 203.0.113.9"},
			check: wantAddrs("203.0.113.9:5004", "203.0.113.9:5005", false),
		},
		{
			name:  "rtcp-mux keeps RTCP on the RTP port",
			lines: []string{"m=audio 5004 RTP/AVPF 0", "a=rtcp-mux"},
			check: func(t *testing.T, m audioMedia) {
				wantAddrs("198.51.100.7:5004", "198.51.100.7:5004", true)(t, m)
				if m.Profile != "RTP/AVPF" {
					t.Errorf("profile = %s, want RTP/AVPF", m.Profile)
				}
			},
		},
		{
			name:  "a=rtcp names the RTCP port and address",
			lines: []string{"m=audio 5004 RTP/AVP 0", "a=rtcp:6000 IN IP4 203.0.113.1"},
			check: wantAddrs("198.51.100.7:5004", "203.0.113.1:6000", false),
		},
		{
			name:  "an IPv6 connection address is used",
			lines: []string{"m=audio 5004 RTP/AVP 0", "c=IN IP6 2001:db8::5"},
			check: wantAddrs("[2001:db8::5]:5004", "[2001:db8::5]:5005", false),
		},
		{
			name:  "c=0.0.0.0 (old-style hold) leaves the address to be learnt",
			lines: []string{"m=audio 5004 RTP/AVP 0", "c=IN IP4 0.0.0.0"},
			check: func(t *testing.T, m audioMedia) {
				if m.Remote.IsValid() {
					t.Errorf("remote = %v, want none", m.Remote)
				}
			},
		},
		{
			name:  "ptime is recorded",
			lines: []string{"m=audio 5004 RTP/AVP 0", "a=ptime:30"},
			check: func(t *testing.T, m audioMedia) {
				if m.PtimeMS != 30 {
					t.Errorf("ptime = %d, want 30", m.PtimeMS)
				}
			},
		},
		{
			name:  "an SRTP audio line is skipped for a plain RTP one",
			lines: []string{"m=audio 5004 RTP/SAVP 0", "m=audio 5006 RTP/AVP 8"},
			check: func(t *testing.T, m audioMedia) {
				if m.Index != 1 || m.Codec != codecPCMA {
					t.Errorf("chose m-line %d %v, want 1 PCMA", m.Index, m.Codec)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := parseSDP(offerSDP(append(append([]string{}, head...), tt.lines...)...))
			if err != nil {
				t.Fatal(err)
			}
			m, err := negotiateOffer(sd)
			if err != nil {
				t.Fatalf("negotiate: %v", err)
			}
			tt.check(t, m)
			checkAnswer(t, sd, m)
		})
	}
}

func wantDirection(d direction) func(*testing.T, audioMedia) {
	return func(t *testing.T, m audioMedia) {
		t.Helper()
		if m.Direction != d {
			t.Errorf("our direction = %s, want %s", m.Direction, d)
		}
	}
}

func wantAddrs(rtp, rtcp string, mux bool) func(*testing.T, audioMedia) {
	return func(t *testing.T, m audioMedia) {
		t.Helper()
		if m.Remote != netip.MustParseAddrPort(rtp) || m.RemoteRTCP != netip.MustParseAddrPort(rtcp) || m.RTCPMux != mux {
			t.Errorf("remote = %v rtcp %v mux %v, want %s %s %v", m.Remote, m.RemoteRTCP, m.RTCPMux, rtp, rtcp, mux)
		}
	}
}

func TestNegotiateOfferRefusals(t *testing.T) {
	head := "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
	tests := []struct {
		name string
		body string
		warn int
		err  error
	}{
		{"video alone is 488 media type not available", "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", 304, ErrNoAudio},
		{"G.729 alone is 488 incompatible media format", "m=audio 5004 RTP/AVP 18\r\n", 305, ErrNoCommonCodec},
		{"stereo G.722 is not our G.722", "m=audio 5004 RTP/AVP 117\r\na=rtpmap:117 G722/8000/2\r\n", 305, ErrNoCommonCodec},
		{"SRTP without a crypto line is 488 incompatible transport", "m=audio 5004 RTP/SAVP 0\r\n", 302, ErrUnsupportedCrypto},
		{"SRTP with only unknown suites is 488 incompatible transport",
			"m=audio 5004 RTP/SAVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", 302, ErrUnsupportedCrypto},
		{"DTLS-SRTP is 488 incompatible transport", "m=audio 5004 UDP/TLS/RTP/SAVPF 0\r\n", 302, ErrUnsupportedTransport},
		{"an audio line the offerer disabled is no audio", "m=audio 0 RTP/AVP 0\r\n", 304, ErrNoAudio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := parseSDP([]byte(head + tt.body))
			if err != nil {
				t.Fatal(err)
			}
			_, err = negotiateOffer(sd)
			var se *StatusError
			if !errors.As(err, &se) || se.Code != 488 || se.WarnCode != tt.warn || !errors.Is(err, tt.err) {
				t.Fatalf("negotiate = %v, want 488 with Warning %d wrapping %v", err, tt.warn, tt.err)
			}
		})
	}
	t.Run("garbage is ErrBadSDP", func(t *testing.T) {
		if _, err := parseSDP([]byte("v=0\r\nthis is not sdp\r\n")); !errors.Is(err, ErrBadSDP) {
			t.Fatalf("parse = %v, want ErrBadSDP", err)
		}
	})
}

func TestLateOffer(t *testing.T) {
	local := localMedia{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000, SessionID: 1, Version: 1}
	raw, err := buildOffer(local, sendRecv, ourOffer, cryptoOffer{})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := parseSDP(raw)
	if err != nil {
		t.Fatalf("our offer does not parse: %v\n%s", err, raw)
	}
	t.Run("our offer lists our codecs in preference order with telephone-event", func(t *testing.T) {
		got := strings.Join(offer.MediaDescriptions[0].MediaName.Formats, " ")
		if got != "111 9 0 8 110 101" {
			t.Errorf("formats = %s, want 111 9 0 8 110 101\n%s", got, raw)
		}
	})
	t.Run("an answer choosing PCMA is taken", func(t *testing.T) {
		ans, err := parseSDP(offerSDP("v=0", "o=- 1 1 IN IP4 198.51.100.7", "s=-", "c=IN IP4 198.51.100.7", "t=0 0",
			"m=audio 7078 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := negotiateAnswer(ans, audioPreference)
		if err != nil {
			t.Fatal(err)
		}
		if m.Codec != codecPCMA || m.Remote != netip.MustParseAddrPort("198.51.100.7:7078") || m.Direction != recvOnly {
			t.Errorf("got %v %v %s, want PCMA at 198.51.100.7:7078, recvonly", m.Codec, m.Remote, m.Direction)
		}
	})
	t.Run("an answer refusing audio is 488", func(t *testing.T) {
		ans, _ := parseSDP(offerSDP("v=0", "o=- 1 1 IN IP4 198.51.100.7", "s=-", "t=0 0", "m=audio 0 RTP/AVP 0"))
		if _, err := negotiateAnswer(ans, audioPreference); !errors.Is(err, ErrNoAudio) {
			t.Errorf("negotiate = %v, want ErrNoAudio", err)
		}
	})
}

func TestSessionBody(t *testing.T) {
	sdpBody := "v=0\r\n"
	multi := "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdpBody + "\r\n--b1--\r\n"
	tests := []struct {
		name, ct, body, want string
		code                 int
	}{
		{name: "application/sdp is the offer", ct: "application/sdp", body: sdpBody, want: sdpBody},
		{name: "parameters and case do not matter", ct: "Application/SDP; charset=utf-8", body: sdpBody, want: sdpBody},
		{name: "the SDP part of a multipart body is the offer", ct: `multipart/alternative; boundary="b1"`, body: multi, want: sdpBody},
		{name: "an empty body is a late offer", ct: "application/sdp", body: "", want: ""},
		{name: "a text body is 415", ct: "text/plain", body: "hi", code: 415},
		{name: "a multipart body without SDP is 415", ct: "multipart/mixed; boundary=b1", body: "--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n", code: 415},
		{name: "a multipart body without boundary is 400", ct: "multipart/mixed", body: multi, code: 400},
		{name: "a broken content type is 400", ct: "application/", body: sdpBody, code: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sessionBody(tt.ct, []byte(tt.body))
			if tt.code != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tt.code {
					t.Fatalf("sessionBody = %q, %v; want status %d", got, err, tt.code)
				}
				return
			}
			if err != nil || strings.TrimSpace(string(got)) != strings.TrimSpace(tt.want) {
				t.Fatalf("sessionBody = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
