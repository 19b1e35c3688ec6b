package main

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bifrost-video/bifrost/bridge"
)

// startBaresipVideo starts a baresip video endpoint whose camera is a solid
// colour and whose microphone plays wav (silence when empty), dialling uri
// (recipe in ../shared/interop/TEST-CLIENTS.md: MJPEG in AVI, avcodec's
// H.264); sndfile records what it hears.
func startBaresipVideo(t *testing.T, name, colour, wav, uri string) *baresip {
	t.Helper()
	bin := needTool(t, "baresip")
	ff := needTool(t, "ffmpeg")
	modDir, err := baresipModules()
	if err != nil {
		t.Skipf("baresip modules: %v", err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "color=c=" + colour + ":size=320x240:rate=15", "-t", "90", "-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", filepath.Join(dir, "clip.avi")},
		{"-f", "lavfi", "-i", "aevalsrc=0:s=48000:d=90", "-ac", "1", filepath.Join(dir, "silence.wav")},
	} {
		if out, err := exec.Command(ff, append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	if wav == "" {
		wav = filepath.Join(dir, "silence.wav")
	}
	sipPort, ctrlPort := freePort(t), freePort(t)
	rtp := 30000 + 100*rand.IntN(90)
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
module_path %s
module g711.so
module opus.so
module avcodec.so
module alsa.so
module aufile.so
module avformat.so
module fakevideo.so
module snapshot.so
module sndfile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
avcodec_h264enc libx264
avcodec_h264dec h264
snd_path %s
`, sipPort, wav, filepath.Join(dir, "clip.avi"), rtp, rtp+99, modDir, ctrlPort, filepath.Join(dir, "rec"))
	account := fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=opus/48000/2;video_codecs=H264\n", name, sipPort)
	for f, body := range map[string]string{"config": config, "accounts": account} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &baresip{t: t, name: name, dir: dir, ctrl: fmt.Sprintf("127.0.0.1:%d", ctrlPort), out: &lockedBuffer{}, done: make(chan struct{})}
	b.cmd = exec.Command(bin, "-f", dir, "-t", "120", "-e", "/dial "+uri)
	b.cmd.Dir = dir
	b.cmd.Env = append(os.Environ(), "DISPLAY=")
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", name, b.out.String())
		}
	})
	return b
}

// snapshotColour asks baresip for a PNG of the video it receives and returns
// the mean colour of its centre, ok false when there is no picture yet.
func snapshotColour(b *baresip) (r, g, bl uint64, ok bool) {
	path := filepath.Join(b.dir, fmt.Sprintf("snap-%d.png", time.Now().UnixNano()))
	if _, err := b.command("snapshot_recv", path); err != nil {
		return 0, 0, 0, false
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
		return 0, 0, 0, false
	}
	bd := img.Bounds()
	n := uint64(0)
	for y := bd.Min.Y + bd.Dy()/4; y < bd.Max.Y-bd.Dy()/4; y += 4 {
		for x := bd.Min.X + bd.Dx()/4; x < bd.Max.X-bd.Dx()/4; x += 4 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
		}
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return r / n >> 8, g / n >> 8, bl / n >> 8, true
}

// colourY4M writes Chromium's fake camera: a solid colour.
func colourY4M(t *testing.T, dir, colour string) string {
	t.Helper()
	ff := needTool(t, "ffmpeg")
	out := filepath.Join(dir, colour+".y4m")
	cmd := exec.Command(ff, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c="+colour+":size=640x360:rate=15", "-t", "2", "-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg y4m: %v\n%s", err, b)
	}
	return out
}

// TestE2EBrowserAndBaresipSeeEachOther: a browser (red camera, speaking) and
// a baresip video endpoint (blue camera, silent) in one room: baresip's
// received-video snapshot shows the browser's red picture (the speaker, by
// the bridge's switch), and the browser decodes baresip's video.
func TestE2EBrowserAndBaresipSeeEachOther(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-webvideo", OrganisationID: "org", Name: "Video room", Alias: "1234"}
	e := startE2E(t, room)
	base := startWebcall(t, e)
	dir := t.TempDir()
	ada := chromium(t, toneWAV(t, dir, 600, 30), colourY4M(t, dir, "red"))
	joinPage(t, ada, base+"/join/1234", "Ada", "")
	phone := startBaresipVideo(t, "phone", "blue", "", e.uri(room.Alias))

	eventually(t, 45*time.Second, "the browser and baresip in the mix, baresip with video", func() bool {
		ps := webParticipants(e, room.ID)
		return ps["Ada"].State == bridge.ParticipantJoined && ps["phone"].State == bridge.ParticipantJoined && ps["phone"].VideoCodec != ""
	})
	var sa pageStats
	eventually(t, 45*time.Second, "the browser to decode baresip's video", func() bool {
		sa = statsOf(t, ada)
		return sa.Frames[string(webParticipants(e, room.ID)["phone"].ID)] > 10
	})
	t.Logf("Ada: %+v", sa)
	var r, g, b uint64
	eventually(t, 45*time.Second, "baresip to show the browser's red picture", func() bool {
		var ok bool
		r, g, b, ok = snapshotColour(phone)
		return ok && r > 150 && g < 100 && b < 100
	})
	t.Logf("baresip shows rgb(%d,%d,%d)", r, g, b)

	// An admin removes the browser: the page says so and offers the lobby.
	confs := e.b.Conferences(t.Context())
	if len(confs) != 1 {
		t.Fatalf("%d conferences, want 1", len(confs))
	}
	if err := e.b.Kick(t.Context(), confs[0].ID, webParticipants(e, room.ID)["Ada"].ID); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ada, chromedp.Poll[string](`(() => { const p = document.getElementById("lobby-error"); return !p.hidden && !document.getElementById("lobby").hidden && p.textContent; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !strings.Contains(msg, "removed") {
		t.Errorf("after the kick the page says %q (%v); want that she was removed", msg, err)
	}
}

// cutProxy forwards TCP connections to target until cut closes them all.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	return p
}

// cut drops every connection, as a broken network would.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestE2EPageRejoinsAfterConnectionLoss: the signalling connection drops
// (no bye); the page says it is re-joining and comes back into the room as
// a new participant on its own.
func TestE2EPageRejoinsAfterConnectionLoss(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-rejoin", OrganisationID: "org", Name: "Rejoin room", Alias: "1234"}
	e := startE2E(t, room)
	base := startWebcall(t, e)
	proxy := startCutProxy(t, strings.TrimPrefix(base, "http://"))
	dir := t.TempDir()
	ada := chromium(t, toneWAV(t, dir, 600, 30), colourY4M(t, dir, "red"))
	joinPage(t, ada, "http://"+proxy.ln.Addr().String()+"/join/1234", "Ada", "")
	first := ""
	eventually(t, 30*time.Second, "Ada connected", func() bool {
		s := statsOf(t, ada)
		first = s.Self
		return s.State == "connected"
	})
	proxy.cut()
	status, err := chromedp.Run(ada, chromedp.Poll[string](`(() => { const s = document.getElementById("status").textContent; return s.includes("e-joining") && s; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("the page did not say it is re-joining: %v", err)
	}
	t.Logf("page status: %q", status)
	eventually(t, 30*time.Second, "Ada back in the room as a new participant, connected", func() bool {
		s := statsOf(t, ada)
		p, in := webParticipants(e, room.ID)["Ada"]
		return s.State == "connected" && s.Self != first && in && string(p.ID) == s.Self && len(webParticipants(e, room.ID)) == 1
	})
}
