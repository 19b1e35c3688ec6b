package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// The switch_latency row compares latencies, not CPU: each round's Sample
// carries one unit of work and, in CPU, a latency — the subject's p95 from
// talker change to keyframe at the receivers, the reference's target
// budget. The runner's medians and ratio then read as latencies.

// switchFrameInterval is the synthetic stream's frame interval
// (bifrost-load --video h264 sends 30 frames a second).
const switchFrameInterval = time.Second / 30

// switchRun is the setup of the switch_latency subject: rooms rooms of
// three bifrost-load --video h264 callers each, talking in turns of turn,
// until switches talker changes (the bridge's active speaker events) have
// happened in a full-size round.
type switchRun struct {
	rooms    int
	switches int
	turn     time.Duration
}

// switchLatency is the subject of switch_latency: a bridge in this process
// and one bifrost-load child per room, its callers taking turns to talk.
// The talker change is the bridge's own decision — the active speaker
// event's time (RoomEvent.At, taken when the mixer picks the new speaker,
// before the router asks it for a keyframe) — so the row measures the
// switch, not the speaker detection's deliberate one-second lead. The end
// is the first packet of the new source's frames at each receiver, from
// bifrost-load's --switch-log (the same machine's wall clock). A switch
// that left a sequence gap at a receiver fails the round.
func switchLatency(t *tools, sr switchRun) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		bin, err := t.bifrostLoad(ctx)
		if err != nil {
			return benchtab.Sample{}, err
		}
		want := max(2, int(float64(sr.switches)*size))
		rooms := min(sr.rooms, max(1, want/3))
		sb, err := startSwitchBridge(rooms)
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer sb.Close()
		dir, err := t.scratchDir()
		if err != nil {
			return benchtab.Sample{}, err
		}
		var loads []*child
		stopAll := func() error {
			var errs []error
			for _, c := range loads {
				// Interrupted, bifrost-load hangs up every call and exits 0.
				_ = c.cmd.Process.Signal(os.Interrupt)
			}
			for _, c := range loads {
				errs = append(errs, c.wait())
			}
			loads = nil
			return errors.Join(errs...)
		}
		defer func() { _ = stopAll() }()
		for i, room := range sb.rooms {
			// Staggered, so the rooms' turns do not all end at once.
			if i > 0 {
				time.Sleep(sr.turn / time.Duration(rooms))
			}
			c, err := startChild(ctx, dir, bin, "sip", "--target", sb.target(room), "--callers", "3",
				"--codec", "pcmu", "--rate", "20", "--duration", "1h", "--progress", "0", "--max-failures", "1",
				"--video", "h264", "--talk-turn", sr.turn.String(), "--switch-log", switchLogName(dir, room))
			if err != nil {
				return benchtab.Sample{}, err
			}
			loads = append(loads, c)
		}
		if err := waitFor(ctx, 30*time.Second, fmt.Sprintf("%d callers in %d rooms", 3*rooms, rooms), func() bool { return sb.joined() == 3*rooms }); err != nil {
			// A call that failed on a starved machine leaves its room
			// with two talkers, which still switch; fewer do not.
			if n := sb.fewestJoined(); n < 2 {
				return benchtab.Sample{}, fmt.Errorf("%w; a room has %d callers in the mix (%v)", err, n, stopAll())
			}
		}
		sb.countFrom(time.Now())
		limit := time.Duration(want/rooms+3) * sr.turn * 2
		if err := waitFor(ctx, limit, fmt.Sprintf("%d talker changes", want), func() bool { return sb.changes() >= want }); err != nil {
			return benchtab.Sample{}, err
		}
		// The last change's keyframe is milliseconds away; give it a frame
		// interval's margin many times over.
		time.Sleep(300 * time.Millisecond)
		// The callers' hang-ups switch the receivers too: not counted.
		sb.countUntil(time.Now())
		if err := stopAll(); err != nil {
			return benchtab.Sample{}, err
		}
		lat, gaps, err := sb.latencies(dir)
		if err != nil {
			return benchtab.Sample{}, err
		}
		if len(lat) == 0 {
			return benchtab.Sample{}, fmt.Errorf("%d talker changes but no receiver saw a switch", sb.changes())
		}
		slices.Sort(lat)
		p95 := lat[max(0, (95*len(lat)+99)/100-1)]
		if gaps > 0 {
			return benchtab.Sample{}, fmt.Errorf("%d of %d switches at receivers left a sequence gap (p95 latency %s)", gaps, len(lat), p95)
		}
		return benchtab.Sample{Work: 1, CPU: max(p95, 1)}, nil
	}
}

// pliRoundTrip is the reference of switch_latency: the target's budget of
// two frame intervals (an encoder answers a keyframe request at its next
// frame, and the keyframe takes a frame interval to send at its bit
// rate) plus one PLI round trip, measured here in the same run as the
// median time from sending a 12-byte PLI to receiving the first 1200-byte
// packet a source answers it with at once, over loopback UDP between two
// sockets (what the network adds between the bridge and its source).
func pliRoundTrip(pings int) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		lo := netip.MustParseAddrPort("127.0.0.1:0")
		bridgeSide, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(lo))
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer bridgeSide.Close()
		source, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(lo))
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer source.Close()
		var wg sync.WaitGroup
		wg.Go(func() {
			in, out := make([]byte, 1500), make([]byte, 1200)
			for {
				_, from, err := source.ReadFromUDPAddrPort(in)
				if err != nil {
					return
				}
				_, _ = source.WriteToUDPAddrPort(out, from)
			}
		})
		defer wg.Wait()
		defer source.Close()
		dst := source.LocalAddr().(*net.UDPAddr).AddrPort()
		pli, in := make([]byte, 12), make([]byte, 1500)
		pli[0], pli[1], pli[3] = 0x81, 206, 2 // RTCP PSFB, FMT 1 (RFC 4585 §6.3.1)
		n := max(10, int(float64(pings)*size))
		rtts := make([]time.Duration, 0, n)
		for range n {
			if err := ctx.Err(); err != nil {
				return benchtab.Sample{}, err
			}
			_ = bridgeSide.SetReadDeadline(time.Now().Add(time.Second))
			t0 := time.Now()
			if _, err := bridgeSide.WriteToUDPAddrPort(pli, dst); err != nil {
				return benchtab.Sample{}, err
			}
			if _, _, err := bridgeSide.ReadFromUDPAddrPort(in); err != nil {
				return benchtab.Sample{}, fmt.Errorf("PLI round trip: %w", err)
			}
			rtts = append(rtts, time.Since(t0))
		}
		slices.Sort(rtts)
		return benchtab.Sample{Work: 1, CPU: 2*switchFrameInterval + rtts[len(rtts)/2]}, nil
	}
}

// switchBridge is a bridge in this process with rooms of its own, and the
// active speaker events it published.
type switchBridge struct {
	b      *bridge.Bridge
	srv    *sipcall.Server
	cancel context.CancelFunc
	rooms  []bridge.RoomInfo
	unsub  func()

	mu     sync.Mutex
	from   time.Time                     // switches before are not counted
	until  time.Time                     // nor after: the callers leave
	events map[bridge.RoomID][]time.Time // active speaker changes, in order
}

func startSwitchBridge(rooms int) (*switchBridge, error) {
	sb := &switchBridge{events: make(map[bridge.RoomID][]time.Time)}
	for i := range rooms {
		sb.rooms = append(sb.rooms, bridge.RoomInfo{
			ID: bridge.RoomID("switch-" + itoa(i+1)), OrganisationID: "bench", Name: "Switch", Alias: itoa(7001 + i),
		})
	}
	log := slog.New(slog.DiscardHandler)
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		for _, r := range sb.rooms {
			if r.Alias == alias {
				return r, nil
			}
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	base := 30000 + 1000*rand.IntN(20)
	cfg := bridge.Config{RTPPortMin: base, RTPPortMax: base + 999}
	sb.b = bridge.New(cfg, bridge.Deps{Resolver: resolver, Logger: log})
	sb.unsub = sb.b.Subscribe(func(ev bridge.RoomEvent) {
		if ev.Kind != bridge.EventActiveSpeaker || ev.ParticipantID == "" {
			return
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		sb.events[ev.RoomID] = append(sb.events[ev.RoomID], ev.At)
	})
	srv, err := sipcall.NewServer(sipcall.Config{Addr: "127.0.0.1:0", Rooms: sipcall.BridgeRooms(sb.b), Media: cfg}, log, nil)
	if err != nil {
		sb.unsub()
		_ = sb.b.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		sb.unsub()
		_ = sb.b.Close()
		return nil, err
	}
	sb.srv, sb.cancel = srv, cancel
	return sb, nil
}

func (sb *switchBridge) Close() {
	sb.unsub()
	_ = sb.srv.Close()
	_ = sb.b.Close()
	sb.cancel()
}

func (sb *switchBridge) target(r bridge.RoomInfo) string {
	return "sip:" + r.Alias + "@" + sb.srv.UDPAddr().String()
}

// joined counts the participants in the mix of every room.
func (sb *switchBridge) joined() int {
	n := 0
	for _, c := range sb.b.Conferences(context.Background()) {
		for _, p := range c.Participants {
			if p.State == bridge.ParticipantJoined {
				n++
			}
		}
	}
	return n
}

// fewestJoined is the fewest participants in the mix of any room.
func (sb *switchBridge) fewestJoined() int {
	n := make(map[bridge.RoomID]int, len(sb.rooms))
	for _, c := range sb.b.Conferences(context.Background()) {
		for _, p := range c.Participants {
			if p.State == bridge.ParticipantJoined {
				n[c.RoomID]++
			}
		}
	}
	fewest := 3
	for _, r := range sb.rooms {
		fewest = min(fewest, n[r.ID])
	}
	return fewest
}

// countFrom starts counting talker changes at t.
func (sb *switchBridge) countFrom(t time.Time) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.from = t
}

// countUntil stops counting switches at t.
func (sb *switchBridge) countUntil(t time.Time) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.until = t
}

// changes counts the talker changes since countFrom, in every room.
func (sb *switchBridge) changes() int {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	n := 0
	for _, evs := range sb.events {
		for _, at := range evs {
			if !at.Before(sb.from) {
				n++
			}
		}
	}
	return n
}

func switchLogName(dir string, r bridge.RoomInfo) string {
	return filepath.Join(dir, "switches-"+string(r.ID)+".log")
}

// latencies reads each room's switch log and pairs every switch a
// receiver saw between countFrom and countUntil with the room's last
// talker change before it: the latency is the time between. gaps counts the switches that came
// with a sequence gap.
func (sb *switchBridge) latencies(dir string) (lat []time.Duration, gaps int, err error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, r := range sb.rooms {
		evs := sb.events[r.ID]
		f, err := os.Open(switchLogName(dir, r))
		if err != nil {
			return nil, 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sw, ok := parseSwitchLine(sc.Text())
			if !ok {
				_ = f.Close()
				return nil, 0, fmt.Errorf("%s: bad line %q", f.Name(), sc.Text())
			}
			if sw.at.Before(sb.from) || (!sb.until.IsZero() && sw.at.After(sb.until)) {
				continue
			}
			i, _ := slices.BinarySearchFunc(evs, sw.at, func(e, t time.Time) int { return e.Compare(t) })
			if i == 0 {
				continue // before the room's first change: not a switch we caused
			}
			lat = append(lat, sw.at.Sub(evs[i-1]))
			if sw.gap {
				gaps++
			}
		}
		_ = f.Close()
		if err := sc.Err(); err != nil {
			return nil, 0, err
		}
	}
	return lat, gaps, nil
}

// switchLine is one line of bifrost-load's --switch-log.
type switchLine struct {
	at       time.Time
	keyframe bool
	gap      bool
}

var switchLineRE = regexp.MustCompile(`^(\d+) \d+ \d+ \d+ ([01]) ([01]) -?\d+ -?\d+$`)

func parseSwitchLine(s string) (switchLine, bool) {
	m := switchLineRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return switchLine{}, false
	}
	ns, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return switchLine{}, false
	}
	return switchLine{at: time.Unix(0, ns), keyframe: m[2] == "1", gap: m[3] == "1"}, true
}
