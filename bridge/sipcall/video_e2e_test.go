package sipcall

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/internal/baresiptest"
)

// startBaresipVideo starts one baresip video endpoint (recipe in
// ../shared/interop/TEST-CLIENTS.md) dialling room 1234 at server: an MJPEG
// clip of one solid colour as its camera, the aevalsrc expression sound as
// its microphone, ctrl_tcp for snapshot_recv. mediaenc is "" or
// "srtp-mand"; with a CA file, it dials over TLS (server is then the TLS
// address) and trusts that CA.
func startBaresipVideo(t *testing.T, name, colour, sound, mediaenc, caFile string, server net.Addr) *baresiptest.Phone {
	t.Helper()
	dir := baresiptest.Dir(t, name)
	clip := baresiptest.ColourClip(t, filepath.Join(dir, "clip.avi"), colour, 60)
	wav := baresiptest.ExprWAV(t, filepath.Join(dir, "sound.wav"), sound, 60)
	uri := "sip:1234@" + server.String()
	if caFile != "" {
		uri += ";transport=tls"
	}
	rtpBase := 20000 + 4*(baresiptest.FreePort(t)%2000)
	return baresiptest.Start(t, dir, baresiptest.Options{
		Name:        name,
		Dial:        uri,
		AudioSource: wav,
		AudioCodecs: "opus/48000/2,PCMU",
		Video:       &baresiptest.Video{Codecs: "H264", Source: "avformat," + clip},
		MediaEnc:    mediaenc,
		CAFile:      caFile,
		Modules: []string{"g711.so", "opus.so", "avcodec.so", "alsa.so", "aufile.so", "avformat.so",
			"fakevideo.so", "snapshot.so", "srtp.so"},
		RTPPorts: [2]int{rtpBase, rtpBase + 40},
		Ctrl:     true,
	}, 80*time.Second)
}

// TestBaresipVideoFollowsTheSpeaker puts three baresip video endpoints
// (red, green, blue cameras) and an audio-only caller into one room of the
// real bridge: while red's endpoint plays its tone, green and blue receive
// red's picture; when green's starts (and red's stops), red and blue
// switch to green and green sees red, the previous speaker. Green insists
// on SRTP (mediaenc=srtp-mand): its audio and video are both encrypted, and
// it switches like the others; blue calls over SIP/TLS. The audio-only caller stays in the call and
// keeps receiving the mix.
func TestBaresipVideoFollowsTheSpeaker(t *testing.T) {
	b := bridge.New(bridge.Config{}, bridge.Deps{Resolver: bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		if alias != testRoom.Alias {
			return bridge.RoomInfo{}, bridge.ErrRoomNotFound
		}
		return testRoom, nil
	})})
	pool := testPool(t, 16)
	cert, _ := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startCallServer(t, BridgeRooms(b), func(c *Config) {
		c.Media.RTPPortMin, c.Media.RTPPortMax = pool.min, pool.max
		c.RTPTimeout = time.Minute
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.TLSAddr = "127.0.0.1:0"
	})
	t.Cleanup(func() { _ = s.Close(); _ = b.Close() })

	// Red speaks for the first 20 s; green from 24 s on; blue never.
	tone := "'%s*0.4*sin(2*PI*700*t)'"
	red := startBaresipVideo(t, "red", "red", fmt.Sprintf(tone, "lt(t,20)"), "", "", s.UDPAddr())
	green := startBaresipVideo(t, "green", "green", fmt.Sprintf(tone, "gt(t,24)"), "srtp-mand", "", s.UDPAddr())
	blue := startBaresipVideo(t, "blue", "blue", "0", "", caFile, s.TLSAddr())

	phone := newTestUA(t)
	sess, res := phone.invite(s.Server, "1234", phone.defaultOffer())
	if res.StatusCode != 200 {
		t.Fatalf("audio-only INVITE = %d; want 200", res.StatusCode)
	}
	_ = sess.Ack(phone.ctx())

	waitShows := func(what string, within time.Duration, want map[*baresiptest.Phone]string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got, ok := map[string]string{}, true
			for ep, colour := range want {
				got[ep.Name] = ep.Shows()
				ok = ok && got[ep.Name] == colour
			}
			if ok {
				t.Logf("%s: endpoints show %v", what, got)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s: endpoints show %v", what, got)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitShows("green and blue to show red, the speaker", 20*time.Second, map[*baresiptest.Phone]string{green: "red", blue: "red"})
	waitShows("red and blue to switch to green, and green to show red", 25*time.Second,
		map[*baresiptest.Phone]string{red: "green", blue: "green", green: "red"})

	seen := 0
	for _, v := range b.Conferences(t.Context()) {
		for _, p := range v.Participants {
			seen++
			want := bridge.EncryptionNone
			if strings.Contains(p.RemoteURI, "green@") {
				want = bridge.EncryptionSRTPSDES
			}
			if p.Encryption != want {
				t.Errorf("%s: encryption %q; want %q", p.RemoteURI, p.Encryption, want)
			}
			if strings.Contains(p.RemoteURI, "blue@") != (p.Transport == "tls") {
				t.Errorf("%s: transport %q; want tls for blue only", p.RemoteURI, p.Transport)
			}
			if p.VideoCodec != "" && (p.VideoWidth != 320 || p.VideoHeight != 240) {
				t.Errorf("%s: sends %dx%d video; want its 320x240 camera", p.RemoteURI, p.VideoWidth, p.VideoHeight)
			}
		}
	}
	if seen != 4 {
		t.Errorf("the admin view lists %d participants; want 4", seen)
	}
	if n := s.ActiveCalls(); n != 4 {
		t.Errorf("%d calls up; want all 4, the audio-only one included", n)
	}
	if h, _ := phone.rtp.read(); h.PT != 0 && h.PT != 8 && h.PT != 9 && h.PT != 111 {
		t.Errorf("the audio-only caller got payload type %d; want its audio", h.PT)
	}
}
