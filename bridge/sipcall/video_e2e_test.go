package sipcall

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// baresipVideo is one headless baresip video endpoint (recipe in
// ../shared/interop/TEST-CLIENTS.md): an MJPEG clip of one solid colour as
// its camera, a WAV as its microphone, ctrl_tcp for snapshot_recv.
type baresipVideo struct {
	t      *testing.T
	name   string
	dir    string
	ctrl   string
	cmd    *exec.Cmd
	out    *logBuffer
	cancel context.CancelFunc
}

// startBaresipVideo writes the clip, the sound and the config of one
// instance and starts it dialling room 1234 at server; account are more
// account parameters (";mediaenc=srtp-mand"). With a CA file, it dials
// over TLS (server is then the TLS address) and trusts that CA.
func startBaresipVideo(t *testing.T, baresip, ffmpeg, name, colour, sound, account, caFile string, server net.Addr) *baresipVideo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		if out, err := exec.Command(ffmpeg, append([]string{"-loglevel", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	run("-f", "lavfi", "-i", "color=c="+colour+":size=320x240:rate=15", "-t", "60", "-c:v", "mjpeg", "-q:v", "3",
		"-pix_fmt", "yuvj420p", filepath.Join(dir, "clip.avi"))
	run("-f", "lavfi", "-i", "aevalsrc="+sound+":s=48000:d=60", "-ac", "1", filepath.Join(dir, "sound.wav"))
	sipPort, ctrlPort := freePort(t), freePort(t)
	tlsConfig, uri := "", "sip:1234@"+server.String()
	if caFile != "" {
		tlsConfig, uri = "sip_cafile "+caFile, uri+";transport=tls"
	}
	rtpBase := 20000 + 4*(sipPort%2000)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_player alsa,null
audio_alert alsa,null
audio_source aufile,%s
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 1
auplay_channels 1
video_source avformat,%s
video_size 320x240
video_bitrate 300000
video_fps 15
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module opus.so
module avcodec.so
module alsa.so
module aufile.so
module avformat.so
module fakevideo.so
module snapshot.so
module srtp.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
avcodec_h264enc libx264
avcodec_h264dec h264
%s
`, sipPort, filepath.Join(dir, "sound.wav"), filepath.Join(dir, "clip.avi"), rtpBase, rtpBase+40, ctrlPort, tlsConfig)
	accounts := fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;audio_codecs=opus/48000/2,PCMU;video_codecs=H264%s\n", name, sipPort, account)
	for f, body := range map[string]string{"config": config, "accounts": accounts} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	b := &baresipVideo{t: t, name: name, dir: dir, ctrl: "127.0.0.1:" + strconv.Itoa(ctrlPort), out: &logBuffer{}, cancel: cancel}
	b.cmd = exec.CommandContext(ctx, baresip, "-f", dir, "-t", "80", "-e", "/dial "+uri)
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	// Video display: fakevideo's null display; no X needed.
	b.cmd.Env = append(os.Environ(), "DISPLAY=")
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = b.cmd.Wait()
		if t.Failed() {
			t.Logf("baresip %s:\n%s", name, b.out.String())
		}
	})
	return b
}

// command sends one ctrl_tcp command (netstring-framed JSON) and waits for
// its reply.
func (b *baresipVideo) command(cmd, params string) error {
	conn, err := net.DialTimeout("tcp", b.ctrl, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t1"})
	if _, err := fmt.Fprintf(conn, "%d:%s,", len(req), req); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenStr, ":"))
		if err != nil || n > 1<<20 {
			return fmt.Errorf("bad netstring length %q", lenStr)
		}
		msg := make([]byte, n+1)
		if _, err := io.ReadFull(r, msg); err != nil {
			return err
		}
		var reply struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Token    string `json:"token"`
			Data     string `json:"data"`
		}
		if json.Unmarshal(msg[:n], &reply) == nil && reply.Response && reply.Token == "t1" {
			if !reply.OK {
				return fmt.Errorf("%s: %s", cmd, reply.Data)
			}
			return nil
		}
	}
}

// shows returns the colour name of the video baresip receives now: red,
// green or blue by the dominant channel at the centre of snapshot_recv,
// "" when there is no picture yet.
func (b *baresipVideo) shows() string {
	path := filepath.Join(b.dir, fmt.Sprintf("snap-%d.png", time.Now().UnixNano()))
	if err := b.command("snapshot_recv", path); err != nil {
		return ""
	}
	var img image.Image
	for range 20 {
		time.Sleep(50 * time.Millisecond)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		img, err = png.Decode(f)
		f.Close()
		if err == nil {
			break
		}
	}
	if img == nil {
		return ""
	}
	bounds := img.Bounds()
	var r, g, bl uint64
	n := uint64(0)
	for y := bounds.Min.Y + bounds.Dy()/4; y < bounds.Max.Y-bounds.Dy()/4; y += 4 {
		for x := bounds.Min.X + bounds.Dx()/4; x < bounds.Max.X-bounds.Dx()/4; x += 4 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
		}
	}
	if n == 0 {
		return ""
	}
	r, g, bl = r/n>>8, g/n>>8, bl/n>>8
	switch {
	case r > 150 && g < 100 && bl < 100:
		return "red"
	case g > 100 && r < 100 && bl < 100:
		return "green"
	case bl > 150 && r < 100 && g < 100:
		return "blue"
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, bl)
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
	baresip := requireTool(t, "baresip", "baresip")
	ffmpeg := requireTool(t, "ffmpeg", "ffmpeg")
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
	red := startBaresipVideo(t, baresip, ffmpeg, "red", "red", fmt.Sprintf(tone, "lt(t,20)"), "", "", s.UDPAddr())
	green := startBaresipVideo(t, baresip, ffmpeg, "green", "green", fmt.Sprintf(tone, "gt(t,24)"), ";mediaenc=srtp-mand", "", s.UDPAddr())
	blue := startBaresipVideo(t, baresip, ffmpeg, "blue", "blue", "0", "", caFile, s.TLSAddr())

	phone := newTestUA(t)
	sess, res := phone.invite(s.Server, "1234", phone.defaultOffer())
	if res.StatusCode != 200 {
		t.Fatalf("audio-only INVITE = %d; want 200", res.StatusCode)
	}
	_ = sess.Ack(phone.ctx())

	waitShows := func(what string, within time.Duration, want map[*baresipVideo]string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got, ok := map[string]string{}, true
			for ep, colour := range want {
				got[ep.name] = ep.shows()
				ok = ok && got[ep.name] == colour
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
	waitShows("green and blue to show red, the speaker", 20*time.Second, map[*baresipVideo]string{green: "red", blue: "red"})
	waitShows("red and blue to switch to green, and green to show red", 25*time.Second,
		map[*baresipVideo]string{red: "green", blue: "green", green: "red"})

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
