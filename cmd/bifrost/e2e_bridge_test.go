package main

// End-to-end tests of rooms with real SIP endpoints: baresip and linphonec
// dial an in-process Bridge and SIP server (the same wiring as serve, with the
// rooms given by a ResolverFunc instead of PostgreSQL).

import (
	"context"
	encbin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
)

// e2e is an in-process bridge with its SIP server on 127.0.0.1.
type e2e struct {
	b   *bridge.Bridge
	srv *sipcall.Server
	obs *legRecorder
}

// legRecorder keeps the LegEnd reports.
type legRecorder struct {
	bridge.NopObserver
	mu   sync.Mutex
	ends []bridge.LegEnd
}

func (r *legRecorder) LegEnded(e bridge.LegEnd) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends = append(r.ends, e)
}

func (r *legRecorder) ended() []bridge.LegEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bridge.LegEnd(nil), r.ends...)
}

func startE2E(t *testing.T, rooms ...bridge.RoomInfo) *e2e {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("BIFROST_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		for _, r := range rooms {
			if r.Alias == alias || (r.NameAlias != "" && strings.EqualFold(r.NameAlias, alias)) {
				return r, nil
			}
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	base := 41000 + 200*rand.IntN(40)
	media := bridge.Config{RTPPortMin: base, RTPPortMax: base + 199}
	obs := &legRecorder{}
	b := bridge.New(media, bridge.Deps{Resolver: resolver, Observer: obs, Logger: log})
	srv, err := sipcall.NewServer(sipcall.Config{Addr: "127.0.0.1:0", Rooms: sipcall.BridgeRooms(b), Media: media}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = b.Close()
		cancel()
	})
	return &e2e{b: b, srv: srv, obs: obs}
}

// uri is the SIP URI that dials alias on the test server.
func (e *e2e) uri(alias string) string {
	return fmt.Sprintf("sip:%s@%s", alias, e.srv.UDPAddr().String())
}

// participants returns the participants of the room's conference by name.
func (e *e2e) participants(room bridge.RoomID) map[string]bridge.ParticipantView {
	out := map[string]bridge.ParticipantView{}
	for _, c := range e.b.Conferences(context.Background()) {
		if c.RoomID != room {
			continue
		}
		for _, p := range c.Participants {
			out[nameOf(p)] = p
		}
	}
	return out
}

// nameOf is the user part of a participant's URI (baresip sends no display name).
func nameOf(p bridge.ParticipantView) string {
	u := strings.TrimPrefix(p.RemoteURI, "sip:")
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}

// needCodecs skips the test while package media cannot encode one of codecs.
func needCodecs(t *testing.T, codecs ...media.AudioCodec) {
	t.Helper()
	for _, c := range codecs {
		enc, err := media.NewEncoder(c)
		if err != nil {
			t.Skipf("bridge/media cannot encode %s yet: %v", c, err)
		}
		_ = enc.Close()
	}
}

// eventually polls cond every 50 ms until it holds, failing after limit with
// what it waited for. Not a timing assertion: limit only bounds a hang.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordedSeconds is how much received audio baresip has written so far
// (sndfile records after the decoder, at the codec's rate).
func (b *baresip) recordedSeconds() float64 {
	files, _ := filepath.Glob(filepath.Join(b.dir, "rec", "*dec*.wav"))
	if len(files) == 0 {
		return 0
	}
	return wavSeconds(files[len(files)-1])
}

// wavSeconds is the length of the 16-bit mono WAV at path, from its size and
// the rate in its header (the size field is final only once it is closed).
func wavSeconds(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	hdr := make([]byte, 44)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return 0
	}
	rate := int(encbin.LittleEndian.Uint32(hdr[24:]))
	st, err := f.Stat()
	if err != nil || rate == 0 {
		return 0
	}
	return float64(st.Size()-44) / float64(rate*2)
}

// toneCaller is one baresip of the tone test: its name, the tone it sends and
// the codec it offers (baresip's name) and joins with, as the admin view
// shows it (the a=rtpmap form of RFC 4566 §6).
type toneCaller struct {
	name  string
	hz    int
	codec string
	want  string
}

func TestE2EThreeBaresipsHearTheOthersButNotThemselves(t *testing.T) {
	t.Run("Opus, G.722 and PCMU", func(t *testing.T) {
		needCodecs(t, media.Opus, media.G722, media.PCMU)
		threeTones(t, []toneCaller{
			{"opus", 440, "opus/48000/2", "opus/48000/2"},
			{"g722", 660, "G722/16000", "G722/8000"},
			{"pcmu", 880, "PCMU", "PCMU/8000"},
		})
	})
	t.Run("PCMA, PCMU and PCMU", func(t *testing.T) {
		needCodecs(t, media.PCMA, media.PCMU)
		threeTones(t, []toneCaller{
			{"pcma", 440, "PCMA", "PCMA/8000"},
			{"pcmu1", 660, "PCMU", "PCMU/8000"},
			{"pcmu2", 880, "PCMU", "PCMU/8000"},
		})
	})
}

// threeTones puts the callers in one room, each sending its tone, and checks
// that each one's recording holds the others' tones and not its own (Goertzel).
func threeTones(t *testing.T, callers []toneCaller) {
	room := bridge.RoomInfo{ID: "room-tones", OrganisationID: "org", Name: "Tones", Alias: "1234"}
	e := startE2E(t, room)
	dir := t.TempDir()
	var phones []*baresip
	for _, c := range callers {
		phones = append(phones, startBaresip(t, c.name, toneWAV(t, dir, c.hz, 60), c.codec, e.uri(room.Alias)))
	}
	eventually(t, 30*time.Second, "three callers joined", func() bool {
		ps := e.participants(room.ID)
		n := 0
		for _, p := range ps {
			if p.State == bridge.ParticipantJoined {
				n++
			}
		}
		return n == 3
	})
	ps := e.participants(room.ID)
	for _, c := range callers {
		if got := ps[c.name].AudioCodec; got != c.want {
			t.Errorf("%s joined with codec %q; want %q", c.name, got, c.want)
		}
	}
	// Once all three are in, let each record 4 s more of what it hears.
	start := make([]float64, len(phones))
	for i, ph := range phones {
		start[i] = ph.recordedSeconds()
	}
	eventually(t, 30*time.Second, "4 s of audio recorded by each caller after all joined", func() bool {
		for i, ph := range phones {
			if ph.recordedSeconds() < start[i]+4 {
				return false
			}
		}
		return true
	})
	for _, ph := range phones {
		ph.stop()
	}
	for i, c := range callers {
		pcm, rate := phones[i].received()
		tail := pcm[len(pcm)-3*rate:] // the last 3 s: everyone was in
		own := toneLevel(tail, float64(c.hz), rate)
		for j, o := range callers {
			if j == i {
				continue
			}
			other := toneLevel(tail, float64(o.hz), rate)
			t.Logf("%s hears %d Hz at %.0f (its own %d Hz at %.0f)", c.name, o.hz, other, c.hz, own)
			if other < 300 {
				t.Errorf("%s hears %s's %d Hz tone at amplitude %.0f; want it clearly (above 300)", c.name, o.name, o.hz, other)
			}
			if own > other/10 {
				t.Errorf("%s hears its own %d Hz at %.0f, not far below %s's %d Hz at %.0f; want its own voice left out of its mix",
					c.name, c.hz, own, o.name, o.hz, other)
			}
		}
	}
}

func TestE2EPINRoomAdmitsTheRightPINAndHangsUpAfterThreeWrongOnes(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-pin", OrganisationID: "org", Name: "PIN", Alias: "5678", HostPIN: "2468", GuestPIN: "1357"}
	e := startE2E(t, room)
	dir := t.TempDir()
	good := startBaresip(t, "good", toneWAV(t, dir, 440, 60), "PCMU", e.uri(room.Alias))
	bad := startBaresip(t, "bad", toneWAV(t, dir, 660, 60), "PCMU", e.uri(room.Alias))
	eventually(t, 30*time.Second, "both callers at the PIN prompt", func() bool {
		ps := e.participants(room.ID)
		return ps["good"].State == bridge.ParticipantEnteringPIN && ps["bad"].State == bridge.ParticipantEnteringPIN
	})
	if _, err := good.command("sndcode", "1357#"); err != nil {
		t.Fatalf("good: sndcode: %v", err)
	}
	if _, err := bad.command("sndcode", "1111#2222#3333#"); err != nil {
		t.Fatalf("bad: sndcode: %v", err)
	}
	eventually(t, 30*time.Second, "the caller with the guest PIN to join as guest", func() bool {
		p := e.participants(room.ID)["good"]
		return p.State == bridge.ParticipantJoined && p.Role == bridge.RoleGuest
	})
	eventually(t, 60*time.Second, "the caller with three wrong PINs to be hung up", func() bool {
		_, in := e.participants(room.ID)["bad"]
		return !in && len(e.obs.ended()) == 1
	})
	if end := e.obs.ended()[0]; end.Reason != bridge.EndRejected || end.ErrorCode != 403 {
		t.Errorf("the wrong-PIN leg ended %q %d; want rejected 403", end.Reason, end.ErrorCode)
	}
	// baresip saw the BYE: it has no call left.
	eventually(t, 10*time.Second, "baresip to have no call after the BYE", func() bool {
		calls, err := bad.command("listcalls", "")
		return err == nil && !strings.Contains(calls, "sip:")
	})
	if _, err := good.command("listcalls", ""); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("good: listcalls: %v", err)
	}
}

func TestE2ELinphonecJoinsAndHearsTheOthers(t *testing.T) {
	needCodecs(t, media.Opus, media.PCMU)
	room := bridge.RoomInfo{ID: "room-linphone", OrganisationID: "org", Name: "Mixed", Alias: "4321"}
	e := startE2E(t, room)
	dir := t.TempDir()
	a := startBaresip(t, "opus", toneWAV(t, dir, 440, 60), "opus/48000/2", e.uri(room.Alias))
	b := startBaresip(t, "pcmu", toneWAV(t, dir, 660, 60), "PCMU", e.uri(room.Alias))
	_ = b
	lp := startLinphone(t)
	rec := filepath.Join(lp.dir, "heard.wav")
	lp.send("soundcard use files")
	lp.send("play " + toneWAV(t, dir, 880, 60))
	lp.send("record " + rec)
	lp.send("call " + e.uri(room.Alias))
	eventually(t, 30*time.Second, "two baresips and linphonec joined", func() bool {
		n := 0
		for _, p := range e.participants(room.ID) {
			if p.State == bridge.ParticipantJoined {
				n++
			}
		}
		return n == 3
	})
	// linphonec finishes its recording only when the call ends: let a
	// baresip's recording measure 5 s of call with everyone in.
	before := a.recordedSeconds()
	eventually(t, 30*time.Second, "5 s of call with everyone in (as baresip records it)", func() bool {
		return a.recordedSeconds() > before+5
	})
	lp.stop()
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := parseWAV(data)
	if err != nil {
		t.Fatalf("linphonec recording: %v", err)
	}
	// linphonec joined last: its whole recording is of everyone in. Its file
	// recorder drops stretches under load (gaps of silence), so the levels
	// are over the whole recording and the bars lower than baresip's.
	if len(pcm) < 2*rate {
		t.Fatalf("linphonec recorded %.1f s; want at least 2", float64(len(pcm))/float64(rate))
	}
	tail := pcm
	own := toneLevel(tail, 880, rate)
	for _, hz := range []int{440, 660} {
		lvl := toneLevel(tail, float64(hz), rate)
		t.Logf("linphonec hears %d Hz at %.0f (its own 880 Hz at %.0f; recording at %d Hz)", hz, lvl, own, rate)
		if lvl < 100 {
			t.Errorf("linphonec hears %d Hz at amplitude %.0f; want it clearly (above 100)", hz, lvl)
		}
		if own > lvl/5 {
			t.Errorf("linphonec hears its own 880 Hz at %.0f, not far below %d Hz at %.0f", own, hz, lvl)
		}
	}
}

// TestE2EServeJoinsACallerToTheDemoRoom dials the demo room of a real
// `bifrost serve` (rooms from PostgreSQL through roomResolver) with baresip.
func TestE2EServeJoinsACallerToTheDemoRoom(t *testing.T) {
	needTool(t, "baresip")
	dir := dataDir(t)
	s := startServe(t, dir, "BIFROST_LOG_LEVEL=info")
	m := regexp.MustCompile(`Dial:\s+sip:(\d+)@`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no demo room in the banner:\n%s", s.stdout.String())
	}
	tones := t.TempDir()
	ph := startBaresip(t, "caller", toneWAV(t, tones, 440, 30), "PCMU", fmt.Sprintf("sip:%s@%s", m[1], s.sipUDP))
	eventually(t, 30*time.Second, "the bridge to log the caller joining the mix", func() bool {
		return strings.Contains(s.stderr.String(), "joined the mix")
	})
	eventually(t, 30*time.Second, "baresip to record 1 s of what the room sends", func() bool {
		return ph.recordedSeconds() >= 1
	})
	ph.stop()
	eventually(t, 30*time.Second, "the bridge to log the conference ending", func() bool {
		return strings.Contains(s.stderr.String(), "conference ended")
	})
}

func TestE2EAGuestWaitsForTheHost(t *testing.T) {
	needTool(t, "baresip")
	room := bridge.RoomInfo{ID: "room-wait", OrganisationID: "org", Name: "Wait", Alias: "7777", HostPIN: "2468", GuestsWaitForHost: true}
	e := startE2E(t, room)
	dir := t.TempDir()
	guest := startBaresip(t, "guest", toneWAV(t, dir, 440, 60), "PCMU", e.uri(room.Alias))
	eventually(t, 30*time.Second, "the guest at the PIN prompt", func() bool {
		return e.participants(room.ID)["guest"].State == bridge.ParticipantEnteringPIN
	})
	if _, err := guest.command("sndcode", "#"); err != nil {
		t.Fatalf("guest: sndcode: %v", err)
	}
	eventually(t, 30*time.Second, "the guest waiting for the host", func() bool {
		p := e.participants(room.ID)["guest"]
		return p.State == bridge.ParticipantWaiting && p.Role == bridge.RoleGuest
	})
	host := startBaresip(t, "host", toneWAV(t, dir, 660, 60), "PCMU", e.uri(room.Alias))
	eventually(t, 30*time.Second, "the host at the PIN prompt", func() bool {
		return e.participants(room.ID)["host"].State == bridge.ParticipantEnteringPIN
	})
	if e.participants(room.ID)["guest"].State != bridge.ParticipantWaiting {
		t.Error("the guest stopped waiting before the host keyed the PIN")
	}
	if _, err := host.command("sndcode", "2468#"); err != nil {
		t.Fatalf("host: sndcode: %v", err)
	}
	eventually(t, 30*time.Second, "host and guest in the mix", func() bool {
		ps := e.participants(room.ID)
		return ps["host"].State == bridge.ParticipantJoined && ps["host"].Role == bridge.RoleHost &&
			ps["guest"].State == bridge.ParticipantJoined
	})
}
