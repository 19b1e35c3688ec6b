package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/webcall"
)

// startWebcall serves the join page and the WebRTC side of e's bridge on
// 127.0.0.1 and returns the base URL.
func startWebcall(t *testing.T, e *e2e) string {
	t.Helper()
	srv, err := webcall.NewServer(webcall.Config{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"}, webcall.Deps{Bridge: e.b})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		_ = srv.Close()
		hs.Close()
	})
	return hs.URL
}

// fakeY4M writes Chromium's fake camera clip.
func fakeY4M(t *testing.T, dir string) string {
	t.Helper()
	ff := needTool(t, "ffmpeg")
	out := filepath.Join(dir, "fake.y4m")
	cmd := exec.Command(ff, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15", "-t", "4", "-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg y4m: %v\n%s", err, b)
	}
	return out
}

// chromium starts a headless Chromium whose fake microphone plays wav and
// whose fake camera plays y4m; it returns the context of its first tab.
func chromium(t *testing.T, wav, y4m string) context.Context {
	t.Helper()
	path := needTool(t, "chromium")
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wav), chromedp.Flag("use-file-for-fake-video-capture", y4m),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// tab opens another tab of the browser of ctx.
func tab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	return c
}

// joinPage opens url, types name and pin into the join page and presses Join.
func joinPage(t *testing.T, ctx context.Context, url, name, pin string) {
	t.Helper()
	logs := &lockedBuffer{}
	_ = chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			for _, a := range ev.Args {
				fmt.Fprintf(logs, "console.%s: %s %s\n", ev.Type, a.Value, a.Description)
			}
		case *cdpruntime.EventExceptionThrown:
			fmt.Fprintf(logs, "exception: %s %v\n", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s's console:\n%s", name, logs.String())
		}
	})
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible("#join-form"),
		chromedp.SendKeys("#name", name),
	}
	if pin != "" {
		steps = append(steps, chromedp.SendKeys("#pin", pin))
	}
	steps = append(steps, chromedp.Click("#join"))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: join page: %v", name, err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({error: document.getElementById("lobby-error").textContent,
			status: document.getElementById("status").textContent, self: window.bifrost && window.bifrost.self,
			ws: window.bifrost && window.bifrost.ws && window.bifrost.ws.readyState, pc: window.bifrost && window.bifrost.pc && window.bifrost.pc.connectionState,
			log: window.__log || []})`))
		t.Logf("%s's page: %s %v", name, state, err)
	})
}

// webParticipants is e.participants keyed by display name for browsers.
func webParticipants(e *e2e, room bridge.RoomID) map[string]bridge.ParticipantView {
	out := map[string]bridge.ParticipantView{}
	for _, c := range e.b.Conferences(context.Background()) {
		if c.RoomID != room {
			continue
		}
		for _, p := range c.Participants {
			if p.Protocol == bridge.ProtocolWebRTC {
				out[p.DisplayName] = p
			} else {
				out[nameOf(p)] = p
			}
		}
	}
	return out
}

// pageStats is what a browser's getStats() says of its call.
type pageStats struct {
	State  string             `json:"state"`
	Energy float64            `json:"energy"` // totalAudioEnergy of the mix received
	Frames map[string]float64 `json:"frames"` // frames decoded, by source participant ID
	Self   string             `json:"self"`
	Tag    string             `json:"tag"` // set by markPeer: the same PeerConnection
}

const statsJS = `(async () => {
  const b = window.bifrost, pc = b && b.pc;
  if (!pc) return {state: "none", energy: 0, frames: {}, self: "", tag: ""};
  const stats = await pc.getStats();
  let energy = 0;
  const byTrack = {};
  stats.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "audio") energy += r.totalAudioEnergy || 0;
    if (r.type === "inbound-rtp" && r.kind === "video") byTrack[r.trackIdentifier] = r.framesDecoded || 0;
  });
  const frames = {};
  for (const [id, s] of b.streams) for (const tr of s.getVideoTracks()) if (tr.id in byTrack) frames[id] = byTrack[tr.id];
  return {state: pc.connectionState, energy, frames, self: b.self, tag: pc.__tag || ""};
})()`

func statsOf(t *testing.T, ctx context.Context) pageStats {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[pageStats](statsJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	return s
}

// TestE2EBrowsersAndBaresipMeet: two Chromiums and one baresip (video) in a
// room. Each browser decodes the other two's video and hears the mix; baresip hears
// both browsers; a third browser joins and leaves without the first two
// reconnecting; a wrong PIN is refused on the page.
func TestE2EBrowsersAndBaresipMeet(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-web", OrganisationID: "org", Name: "Web room", Alias: "1234"}
	pinRoom := bridge.RoomInfo{ID: "room-webpin", OrganisationID: "org", Name: "PIN room", Alias: "5678", HostPIN: "2468"}
	e := startE2E(t, room, pinRoom)
	base := startWebcall(t, e)
	dir := t.TempDir()
	y4m := fakeY4M(t, dir)
	// The browsers' tones lie well away from baresip's 440 Hz and from each
	// other: Chrome's echo canceller turns a microphone down in the bands
	// where its far end (here the others' steady tones) is loud.
	ada := chromium(t, toneWAV(t, dir, 1400, 30), y4m)
	bob := chromium(t, toneWAV(t, dir, 1000, 30), y4m)

	joinPage(t, ada, base+"/join/1234", "Ada", "")
	joinPage(t, bob, base+"/join/1234", "Bob", "")
	phone := startBaresipVideo(t, "phone", "blue", toneWAV(t, dir, 440, 60), e.uri(room.Alias))

	eventually(t, 45*time.Second, "two browsers and baresip in the mix", func() bool {
		n := 0
		for _, p := range webParticipants(e, room.ID) {
			if p.State == bridge.ParticipantJoined {
				n++
			}
		}
		return n == 3
	})
	var sa, sb pageStats
	phoneID := string(webParticipants(e, room.ID)["phone"].ID)
	eventually(t, 45*time.Second, "each browser to decode the other's and baresip's video and hear the mix", func() bool {
		sa, sb = statsOf(t, ada), statsOf(t, bob)
		return sa.State == "connected" && sb.State == "connected" &&
			sa.Frames[sb.Self] > 10 && sb.Frames[sa.Self] > 10 && sa.Frames[phoneID] > 10 && sb.Frames[phoneID] > 10 &&
			sa.Energy > 0.001 && sb.Energy > 0.001 // silence measures about 1e-8
	})
	t.Logf("Ada: %+v", sa)
	t.Logf("Bob: %+v", sb)

	// baresip records what it hears: both browsers' tones.
	start := phone.recordedSeconds()
	eventually(t, 30*time.Second, "4 s of baresip's recording with everyone in", func() bool { return phone.recordedSeconds() >= start+4 })
	phone.stop()
	pcm, rate := phone.received()
	if len(pcm) < 3*rate {
		t.Fatalf("baresip's recording holds %.1f s after it stopped; want at least 3 s", float64(len(pcm))/float64(rate))
	}
	tail := pcm[len(pcm)-3*rate:]
	floor := toneLevel(tail, 1850, rate) // nobody sends 1850 Hz
	for _, hz := range []float64{1400, 1000} {
		lvl := toneLevel(tail, hz, rate)
		t.Logf("baresip hears %.0f Hz at %.0f (1850 Hz, which nobody sends, at %.0f)", hz, lvl, floor)
		// Chrome's echo canceller, noise suppressor and gain control move a
		// browser's steady tone a lot from run to run (135-950 in five runs
		// on a quiet machine); a browser left out of the mix measures 2-20.
		// A tone 26 dB above the floor is clearly heard.
		if lvl < 40 || lvl < 20*floor {
			t.Errorf("baresip hears the browser's %.0f Hz tone at %.0f (1850 Hz at %.0f); want it clearly (above 40 and 20 times the floor)", hz, lvl, floor)
		}
	}

	// A third browser joins and leaves; Ada and Bob keep their connections.
	for _, ctx := range []context.Context{ada, bob} {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.bifrost.pc.__tag = "first"`)); err != nil {
			t.Fatal(err)
		}
	}
	cleo := tab(t, bob)
	joinPage(t, cleo, base+"/join/1234", "Cleo", "")
	var sc pageStats
	eventually(t, 45*time.Second, "Ada to decode Cleo's video", func() bool {
		sc = statsOf(t, cleo)
		sa = statsOf(t, ada)
		return sc.Self != "" && sa.Frames[sc.Self] > 10
	})
	if err := chromedp.Do(cleo, chromedp.Click("#leave")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Cleo to have left", func() bool {
		_, in := webParticipants(e, room.ID)["Cleo"]
		return !in
	})
	for name, ctx := range map[string]context.Context{"Ada": ada, "Bob": bob} {
		s := statsOf(t, ctx)
		if s.Tag != "first" || s.State != "connected" {
			t.Errorf("%s after Cleo came and went: PeerConnection %q in state %s; want the first one, connected", name, s.Tag, s.State)
		}
	}

	// A wrong PIN is refused with a clear message on the page.
	eve := tab(t, ada)
	joinPage(t, eve, base+"/join/5678", "Eve", "1111")
	msg, err := chromedp.Run(eve, chromedp.Poll[string](`(() => { const p = document.getElementById("lobby-error"); return !p.hidden && p.textContent; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !strings.Contains(msg, "PIN") {
		t.Errorf("wrong PIN: the page says %q (%v); want the wrong-PIN message", msg, err)
	}
	if _, in := webParticipants(e, pinRoom.ID)["Eve"]; in {
		t.Error("Eve is in the PIN room with a wrong PIN")
	}
}

// TestServeMountsTheJoinPage: serve shows the demo room's join link in its
// banner, and that link serves the page, its files and a WebSocket that
// answers a join.
func TestServeMountsTheJoinPage(t *testing.T) {
	s := startServe(t, dataDir(t))
	m := regexp.MustCompile(`Join:\s+(http://\S+/join/(\d+))`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no join link in the banner:\n%s", s.stdout.String())
	}
	page := "http://" + s.httpAddr + "/join/" + m[2]
	for _, u := range []string{page, "http://" + s.httpAddr + "/join-assets/join.js"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.httpAddr+"/join/"+m[2]+"/ws", nil)
	if err != nil {
		t.Fatalf("WebSocket: %v", err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"join","name":"Ada"}`)); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(msg), `"type":"joined"`) {
		t.Fatalf("join answered %s (%v); want joined", msg, err)
	}
}
