package main

import (
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/internal/baresiptest"
)

// startBaresipVideo starts a baresip video endpoint whose camera is a solid
// colour and whose microphone plays wav (silence when empty), dialling uri
// (recipe in ../shared/interop/TEST-CLIENTS.md: MJPEG in AVI, avcodec's
// H.264); sndfile records what it hears.
func startBaresipVideo(t *testing.T, name, colour, wav, uri string) *baresip {
	t.Helper()
	needTool(t, "baresip")
	dir, o := recordingOptions(t, name, wav, "opus/48000/2", uri)
	clip := baresiptest.ColourClip(t, filepath.Join(dir, "clip.avi"), colour, 90)
	silence := baresiptest.ExprWAV(t, filepath.Join(dir, "silence.wav"), "0", 90)
	if wav == "" {
		o.AudioSource = silence
	}
	o.Video = &baresiptest.Video{Codecs: "H264", Source: "avformat," + clip}
	o.Modules = []string{"g711.so", "opus.so", "avcodec.so", "alsa.so", "aufile.so", "avformat.so", "fakevideo.so", "snapshot.so", "sndfile.so"}
	o.AppModules = nil
	o.RTPStats = false
	o.Extra = "snd_path " + filepath.Join(dir, "rec") + "\n"
	return &baresip{Phone: baresiptest.Start(t, dir, o, 120*time.Second), t: t, name: name, dir: dir}
}

// snapshotColour asks baresip for a PNG of the video it receives and returns
// the mean colour of its centre, ok false when there is no picture yet.
func snapshotColour(b *baresip) (r, g, bl uint64, ok bool) { return b.SnapshotRGB() }

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
