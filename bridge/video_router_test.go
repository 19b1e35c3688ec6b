package bridge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// fakeVideoLeg is a fakeLeg with video: it records what SendVideo got and
// counts keyframe requests.
type fakeVideoLeg struct {
	fakeLeg
	mode VideoMode

	vmu       sync.Mutex
	got       []sentVideo
	keyframes int
}

type sentVideo struct {
	source ParticipantID
	seq    uint16
	ts     uint32
	nal    byte // the first payload byte's NAL type
	marker bool
}

func (l *fakeVideoLeg) VideoMode() VideoMode { return l.mode }
func (l *fakeVideoLeg) SendVideo(source ParticipantID, pkt *rtp.Packet) {
	l.vmu.Lock()
	l.got = append(l.got, sentVideo{source, pkt.SequenceNumber, pkt.Timestamp, pkt.Payload[0] & 0x1f, pkt.Marker})
	l.vmu.Unlock()
}
func (l *fakeVideoLeg) RequestKeyframe() { l.vmu.Lock(); l.keyframes++; l.vmu.Unlock() }

func (l *fakeVideoLeg) received() []sentVideo {
	l.vmu.Lock()
	defer l.vmu.Unlock()
	return append([]sentVideo(nil), l.got...)
}

func (l *fakeVideoLeg) keyframeRequests() int {
	l.vmu.Lock()
	defer l.vmu.Unlock()
	return l.keyframes
}

// sources lists, in order, whose packets the leg got, one entry per run.
func (l *fakeVideoLeg) sources() []ParticipantID {
	var out []ParticipantID
	for _, s := range l.received() {
		if len(out) == 0 || out[len(out)-1] != s.source {
			out = append(out, s.source)
		}
	}
	return out
}

// videoCaller is one participant with video and the stream it sends.
type videoCaller struct {
	p   *Participant
	leg *fakeVideoLeg
	seq uint16
	ts  uint32
}

func admitVideo(t testing.TB, h *harness, name string, mode VideoMode) *videoCaller {
	t.Helper()
	leg := &fakeVideoLeg{mode: mode}
	leg.info = LegInfo{Protocol: ProtocolSIP, Transport: "udp", DisplayName: name, CallID: name + "-call", VideoCodec: "H264/90000"}
	leg.codec = media.PCMU
	p, err := h.b.Admit(context.Background(), openRoom(), leg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, name+" to join the mix", p.Joined)
	return &videoCaller{p: p, leg: leg, seq: uint16(len(name)) * 1000, ts: uint32(len(name)) * 100000}
}

// H.264 payloads, enough for the router to tell them apart.
var (
	spsNAL   = []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48} // x264, 640x360
	ppsNAL   = []byte{0x68, 0xce, 0x3c, 0x80}
	stapA    = append(append(append([]byte{0x78, 0, byte(len(spsNAL))}, spsNAL...), 0, byte(len(ppsNAL))), ppsNAL...)
	idrNAL   = []byte{0x65, 0x88, 0x84}
	sliceNAL = []byte{0x41, 0x9a, 0x02}
)

// frame sends one frame of c's video: parameter sets and an IDR for a
// keyframe (withParams: as a STAP-A ahead of it), a non-IDR slice otherwise.
func (c *videoCaller) frame(keyframe, withParams bool) {
	var payloads [][]byte
	if keyframe && withParams {
		payloads = append(payloads, stapA)
	}
	if keyframe {
		payloads = append(payloads, idrNAL)
	} else {
		payloads = append(payloads, sliceNAL)
	}
	for i, pl := range payloads {
		c.p.ReceiveVideo(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: c.seq,
			Timestamp: c.ts, SSRC: uint32(c.seq) << 8, Marker: i == len(payloads)-1}, Payload: pl})
		c.seq++
	}
	c.ts += 3000
}

// speak makes c the active speaker and waits until the router has heard.
func speak(t *testing.T, h *harness, c *videoCaller) {
	t.Helper()
	h.mixer(0).onSpeaker(c.p.ID())
	waitFor(t, "the router to take the new speaker", func() bool {
		r := c.p.conf.video
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.order) > 0 && r.order[0].id == c.p.ID()
	})
}

// checkContinuous fails if the leg's outgoing sequence numbers have a gap or
// its timestamps go back.
func checkContinuous(t *testing.T, name string, got []sentVideo) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Fatalf("%s: packet %d has seq %d after %d; want no gap", name, i, got[i].seq, got[i-1].seq)
		}
		if int32(got[i].ts-got[i-1].ts) < 0 {
			t.Fatalf("%s: packet %d has timestamp %d after %d; want no jump back", name, i, got[i].ts, got[i-1].ts)
		}
	}
}

func TestVoiceSwitchingShowsTheSpeakerAndTheSpeakerThePreviousOne(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)

	a.frame(true, true)
	b.frame(true, true)
	c.frame(true, true)
	if got := b.leg.sources(); fmt.Sprint(got) != fmt.Sprint([]ParticipantID{a.p.ID()}) {
		t.Fatalf("bob was shown %v; want alice, the first to send", got)
	}
	speak(t, h, b)
	h.clock.Advance(time.Second, time.Second)
	b.frame(true, false)
	a.frame(false, false)
	c.frame(false, false)
	if got := a.leg.sources(); got[len(got)-1] != b.p.ID() {
		t.Errorf("alice is shown %v; want bob, the speaker", got)
	}
	if got := c.leg.sources(); got[len(got)-1] != b.p.ID() {
		t.Errorf("carol is shown %v; want bob, the speaker", got)
	}
	if got := b.leg.sources(); got[len(got)-1] != a.p.ID() {
		t.Errorf("bob is shown %v; want alice, the previous speaker", got)
	}
	for _, x := range []*videoCaller{a, b, c} {
		checkContinuous(t, x.leg.info.DisplayName, x.leg.received())
	}
}

func TestASwitchWaitsForTheNewSpeakersKeyframeAndAsksForIt(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	b.frame(false, false)
	c.frame(false, false)
	before := b.leg.keyframeRequests()

	speak(t, h, b)
	h.clock.Advance(500*time.Millisecond, 500*time.Millisecond)
	b.frame(false, false) // not a keyframe: carol keeps alice
	a.frame(false, false)
	if b.leg.keyframeRequests() == before {
		t.Fatal("bob was not asked for a keyframe when he became the speaker")
	}
	if got := c.leg.sources(); len(got) != 1 || got[0] != a.p.ID() {
		t.Fatalf("carol was shown %v before bob's keyframe; want alice only", got)
	}
	b.frame(true, true)
	a.frame(false, false) // after the switch: not shown to carol any more
	got := c.leg.received()
	last := got[len(got)-1]
	if last.source != b.p.ID() || last.nal != 5 {
		t.Fatalf("carol's last packet %+v; want bob's IDR", last)
	}
	if got[len(got)-2].nal != 24 {
		t.Errorf("carol's switch did not start with bob's parameter sets: %+v", got[len(got)-2])
	}
	checkContinuous(t, "carol", got)
}

func TestASwitchHappensAtTheNextFrameWhenNoKeyframeComesInTime(t *testing.T) {
	h := newHarness(t, Config{VideoSwitchTimeout: time.Second})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	b.frame(false, false)
	speak(t, h, b)
	b.frame(false, false)
	if got := c.leg.sources(); len(got) != 1 {
		t.Fatalf("carol was shown %v before the timeout; want alice only", got)
	}
	h.clock.Advance(time.Second, time.Second)
	b.frame(false, false)
	if got := c.leg.sources(); len(got) != 2 || got[1] != b.p.ID() {
		t.Fatalf("carol was shown %v after the timeout; want alice then bob", got)
	}
	checkContinuous(t, "carol", c.leg.received())
}

func TestParameterSetsSentOnceAreResentAheadOfTheIDR(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	a.frame(true, true) // alice's only parameter sets, before anyone sees her
	b := admitVideo(t, h, "bob", VideoSwitched)
	a.frame(false, false)
	h.clock.Advance(time.Second, time.Second)
	a.frame(true, false) // an IDR without parameter sets
	got := b.leg.received()
	if len(got) != 2 || got[0].nal != 24 || got[1].nal != 5 {
		t.Fatalf("bob got %+v; want a STAP-A with alice's parameter sets, then her IDR", got)
	}
	if got[0].ts != got[1].ts || got[1].seq != got[0].seq+1 || got[0].marker {
		t.Errorf("the parameter sets %+v do not lead the IDR %+v (same timestamp, seq-1, no marker)", got[0], got[1])
	}
	if w, h := a.p.VideoResolution(); w != 640 || h != 360 {
		t.Errorf("alice's resolution %dx%d; want the 640x360 of her SPS", w, h)
	}
}

func TestKeyframeRequestsFromReceiversReachTheirSourceThrottled(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	h.clock.Advance(time.Second, time.Second)
	before := a.leg.keyframeRequests()
	b.p.KeyframeRequested("")
	c.p.KeyframeRequested("")
	b.p.KeyframeRequested("")
	if got := a.leg.keyframeRequests() - before; got != 1 {
		t.Fatalf("alice got %d keyframe requests for three within the interval; want 1", got)
	}
	h.clock.Advance(time.Second, time.Second)
	a.frame(false, false) // the held-back request goes out with her next packet
	if got := a.leg.keyframeRequests() - before; got != 2 {
		t.Fatalf("alice got %d keyframe requests; want the held-back one too (2)", got)
	}
	a.frame(true, true)
	b.p.KeyframeRequested("")
	h.clock.Advance(100*time.Millisecond, 100*time.Millisecond)
	c.p.KeyframeRequested("")
	h.clock.Advance(time.Second, time.Second)
	a.frame(true, true) // her keyframe answers the held-back request
	a.frame(false, false)
	if got := a.leg.keyframeRequests() - before; got != 2 {
		t.Fatalf("alice got %d keyframe requests; want still 2 (her keyframe satisfied the ones held back)", got)
	}
}

func TestForwardedLegsGetEveryOtherSourceUpToTheirTileCapSpeakersFirst(t *testing.T) {
	h := newHarness(t, Config{VideoTiles: 1})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	w := admitVideo(t, h, "web", VideoForwarded)
	a.frame(true, true)
	b.frame(true, true)
	if got := w.leg.sources(); fmt.Sprint(got) != fmt.Sprint([]ParticipantID{a.p.ID()}) {
		t.Fatalf("the browser got %v; want alice only (one tile)", got)
	}
	sent := w.leg.received()
	if sent[0].seq != a.seq-2 {
		t.Errorf("the browser got seq %d; want alice's own %d (forwarded as received)", sent[0].seq, a.seq-2)
	}
	speak(t, h, b)
	b.frame(false, false)
	a.frame(false, false)
	if got := w.leg.sources(); got[len(got)-1] != b.p.ID() {
		t.Fatalf("the browser got %v; want bob after he spoke", got)
	}
	w.frame(true, true)
	if got := a.leg.sources(); len(got) == 0 {
		t.Error("the browser's video reached nobody")
	}
}

func TestAudioOnlyParticipantsAndLeaversDoNotDisturbVideo(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	p, _, err := h.admit(openRoom(), "phone")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the phone to join", p.Joined)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	b.frame(true, true)
	h.mixer(0).onSpeaker(p.ID()) // the phone speaks: nothing to show
	speak(t, h, b)
	b.frame(true, true)
	b.p.Leave(EndHungUp, 0)
	h.clock.Advance(time.Second, time.Second)
	a.frame(true, true)
	got := c.leg.received()
	if last := got[len(got)-1]; last.source != a.p.ID() {
		t.Errorf("carol's last packet is from %s; want alice after bob left", last.source)
	}
	checkContinuous(t, "carol", got)
}

// TestRandomTalkKeepsEveryReceiversStreamContinuous drives four switched
// participants through a seeded random conversation — speaker changes,
// keyframes with and without parameter sets, silence, switch timeouts, a
// leave and a rejoin — and checks each receiver's outgoing stream never
// skips or repeats a sequence number nor steps its timestamp back.
func TestRandomTalkKeepsEveryReceiversStreamContinuous(t *testing.T) {
	h := newHarness(t, Config{VideoSwitchTimeout: 500 * time.Millisecond})
	rng := rand.New(rand.NewPCG(7, 11))
	var cs []*videoCaller
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		cs = append(cs, admitVideo(t, h, n, VideoSwitched))
	}
	for step := range 3000 {
		if step == 1500 {
			cs[3].p.Leave(EndHungUp, 0)
			cs = append(cs[:3], admitVideo(t, h, "erin", VideoSwitched))
		}
		switch r := rng.IntN(100); {
		case r < 3:
			speak(t, h, cs[rng.IntN(len(cs))])
		default:
			c := cs[rng.IntN(len(cs))]
			c.frame(rng.IntN(20) == 0, rng.IntN(2) == 0)
		}
		h.clock.Advance(10*time.Millisecond, 10*time.Millisecond)
	}
	for _, c := range cs {
		got := c.leg.received()
		if len(got) == 0 {
			t.Errorf("%s received nothing", c.leg.info.DisplayName)
			continue
		}
		checkContinuous(t, c.leg.info.DisplayName, got)
		if n := len(c.leg.sources()); n < 5 {
			t.Errorf("%s was switched %d times; the conversation should switch it often", c.leg.info.DisplayName, n-1)
		}
	}
}

func TestASwitchAsksAtOnceWhenTheSourcesLastKeyframeRequestWasAnswered(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	b.frame(true, true)
	c.frame(true, true)
	h.clock.Advance(time.Second, time.Second)
	// Alice, shown bob, loses a packet and asks for a keyframe; bob
	// answers 40 ms later.
	a.p.KeyframeRequested("")
	h.clock.Advance(40*time.Millisecond, 40*time.Millisecond)
	b.frame(true, true)
	before := b.leg.keyframeRequests()
	// 60 ms after that, well within the throttle interval, bob becomes the
	// speaker: carol switches to him and needs a keyframe of her own. The
	// request that would hold hers back was answered already.
	h.clock.Advance(60*time.Millisecond, 60*time.Millisecond)
	speak(t, h, b)
	if got := b.leg.keyframeRequests() - before; got != 1 {
		t.Fatalf("bob got %d keyframe requests when he became the speaker; want 1 at once, not one held back for the throttle interval", got)
	}
	b.frame(true, true)
	if got := c.leg.sources(); got[len(got)-1] != b.p.ID() {
		t.Fatalf("carol is shown %v; want bob after his keyframe", got)
	}
	checkContinuous(t, "carol", c.leg.received())
}

func TestASwitchDoesNotAskAgainWhileTheSourcesKeyframeIsOnItsWay(t *testing.T) {
	h := newHarness(t, Config{})
	a := admitVideo(t, h, "alice", VideoSwitched)
	b := admitVideo(t, h, "bob", VideoSwitched)
	c := admitVideo(t, h, "carol", VideoSwitched)
	a.frame(true, true)
	b.frame(true, true)
	c.frame(true, true)
	h.clock.Advance(time.Second, time.Second)
	a.p.KeyframeRequested("") // bob is asked; his keyframe has not come yet
	before := b.leg.keyframeRequests()
	h.clock.Advance(60*time.Millisecond, 60*time.Millisecond)
	speak(t, h, b)
	if got := b.leg.keyframeRequests() - before; got != 0 {
		t.Fatalf("bob got %d more keyframe requests while his keyframe was on its way; want 0 (it serves the switch too)", got)
	}
	b.frame(true, true)
	if got := c.leg.sources(); got[len(got)-1] != b.p.ID() {
		t.Fatalf("carol is shown %v; want bob after his keyframe", got)
	}
}
