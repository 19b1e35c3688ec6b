package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/bridge/media"
)

func TestOfferAndAnswer(t *testing.T) {
	addr := netip.MustParseAddrPort("192.0.2.10:40000")
	offer := string(buildOffer(addr, media.Opus, 7))
	for _, want := range []string{"m=audio 40000 RTP/AVP 111 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/48000", "a=rtcp-mux", "c=IN IP4 192.0.2.10"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	tests := []struct {
		name    string
		body    string
		codec   media.AudioCodec
		want    answer
		wantErr bool
	}{
		{"a muxed Opus answer", "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 50000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\na=rtcp-mux\r\n",
			media.Opus, answer{Remote: netip.MustParseAddrPort("198.51.100.1:50000"), RemoteRTCP: netip.MustParseAddrPort("198.51.100.1:50000"), PT: 111, Codec: media.Opus, EventPT: 101, HasEvent: true}, false},
		{"static PCMU, RTCP on the next port", "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\nc=IN IP4 198.51.100.2\r\n",
			media.PCMU, answer{Remote: netip.MustParseAddrPort("198.51.100.2:50000"), RemoteRTCP: netip.MustParseAddrPort("198.51.100.2:50001"), PT: 0, Codec: media.PCMU}, false},
		{"a rejected stream", "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", media.PCMU, answer{}, true},
		{"another codec than offered", "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n", media.PCMU, answer{}, true},
		{"garbage", "hello", media.PCMU, answer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAnswer([]byte(tt.body), tt.codec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v; want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("answer %+v; want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseAnswer feeds the answer parser SDP from real endpoints
// (../shared/testdata/sip): it must return an answer or an error, never
// panic.
func FuzzParseAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "sip", "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		if _, body, ok := strings.Cut(s, "\r\n\r\n"); ok {
			s = body
		} else if _, body, ok := strings.Cut(s, "\n\n"); ok && strings.HasSuffix(p, ".sip") {
			s = body
		}
		f.Add([]byte(s))
	}
	f.Add(buildOffer(netip.MustParseAddrPort("127.0.0.1:4000"), media.PCMU, 1))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range []media.AudioCodec{media.Opus, media.PCMU, media.G722} {
			a, err := parseAnswer(body, c)
			if err == nil && (!a.Remote.IsValid() || !a.Codec.Is(c)) {
				t.Fatalf("answer %+v without error; want a valid address and codec %s", a, c)
			}
		}
	})
}
