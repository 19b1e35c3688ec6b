package main

import (
	encbin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/baresiptest"
)

// needTool returns the path of a binary the end-to-end tests need, or skips
// the test (fails it with CI=true) when it is missing.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (scripts/deps.sh test installs it): %v", name, err)
		}
		t.Skipf("%s is missing (scripts/deps.sh test installs it): %v", name, err)
	}
	return p
}

// freePort returns a TCP and UDP port on 127.0.0.1 that was free a moment ago,
// with the next port free too (baresip binds SIP TLS on port+1).
func freePort(t *testing.T) int {
	t.Helper()
	return baresiptest.FreePort(t)
}

// toneWAV writes a 48 kHz mono WAV of a sine at hz, secs long, with ffmpeg.
func toneWAV(t *testing.T, dir string, hz, secs int) string {
	t.Helper()
	return baresiptest.ToneWAV(t, dir, hz, secs)
}

// baresip is one headless baresip instance (internal/baresiptest, recipe in
// ../shared/interop/TEST-CLIENTS.md) that records what it hears into
// dir/rec with sndfile.
type baresip struct {
	*baresiptest.Phone
	t    *testing.T
	name string
	dir  string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recordingOptions are the options every baresip of these tests shares:
// auto-answer, sndfile recording into dir/rec, ctrl_tcp, no camera.
func recordingOptions(t *testing.T, name, source, codec, uri string) (string, baresiptest.Options) {
	t.Helper()
	dir := baresiptest.Dir(t, name)
	if err := os.MkdirAll(filepath.Join(dir, "rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, baresiptest.Options{
		Name:          name,
		Dial:          uri,
		AudioSource:   source,
		AudioCodecs:   codec,
		AccountParams: ";answermode=auto",
		Modules:       []string{"g711.so", "g722.so", "opus.so", "alsa.so", "aufile.so", "sndfile.so"},
		AppModules:    []string{"contact.so"},
		RTPStats:      true,
		Ctrl:          true,
		Extra:         "snd_path " + filepath.Join(dir, "rec") + "\nvideo_source fakevideo,nil\n",
	}
}

// startBaresip starts baresip sending source (a 48 kHz mono WAV) with only
// codec offered (baresip's names: "opus/48000/2", "G722/16000", "PCMU") and
// dials uri at start.
func startBaresip(t *testing.T, name, source, codec, uri string) *baresip {
	t.Helper()
	dir, o := recordingOptions(t, name, source, codec, uri)
	return &baresip{Phone: baresiptest.Start(t, dir, o, 120*time.Second), t: t, name: name, dir: dir}
}

// command sends one ctrl_tcp command and returns its reply's data, whether
// baresip says ok or not.
func (b *baresip) command(cmd, params string) (string, error) {
	data, err := b.Command(cmd, params)
	if errors.Is(err, baresiptest.ErrCommand) {
		return data, nil
	}
	return data, err
}

// stop ends baresip (SIGTERM, so that sndfile finishes its WAV files; SIGKILL
// after 5 s) and waits for it.
func (b *baresip) stop() { b.Stop() }

// received returns the decoded audio baresip received (sndfile's *-dec.wav)
// and its sample rate. Call it after stop.
func (b *baresip) received() ([]int16, int) {
	b.t.Helper()
	files, _ := filepath.Glob(filepath.Join(b.dir, "rec", "*dec*.wav"))
	if len(files) == 0 {
		b.t.Fatalf("baresip %s recorded nothing received (no rec/*dec*.wav)", b.name)
	}
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		b.t.Fatal(err)
	}
	pcm, rate, err := parseWAV(data)
	if err != nil {
		b.t.Fatalf("baresip %s recording: %v", b.name, err)
	}
	return pcm, rate
}

// parseWAV reads a mono or stereo 16-bit PCM WAV (first channel).
func parseWAV(data []byte) ([]int16, int, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF WAVE file")
	}
	var rate, channels, bits int
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		size := int(encbin.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		if size > len(body) || size < 0 {
			size = len(body) // sndfile may leave the size unset if killed
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			channels = int(encbin.LittleEndian.Uint16(body[2:]))
			rate = int(encbin.LittleEndian.Uint32(body[4:]))
			bits = int(encbin.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("want 16-bit PCM, got %d bits, %d channels", bits, channels)
			}
			n := len(body) / (2 * channels)
			pcm := make([]int16, n)
			for i := range pcm {
				pcm[i] = int16(encbin.LittleEndian.Uint16(body[2*channels*i:]))
			}
			return pcm, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// toneLevel returns the amplitude of frequency f in x (Goertzel).
func toneLevel(x []int16, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(0, s1*s1+s2*s2-c*s1*s2)) / float64(len(x))
}

// linphone is one linphonec instance driven through its stdin.
type linphone struct {
	t     *testing.T
	dir   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lockedBuffer
	done  chan struct{}
}

// startLinphone starts linphonec in file mode (no sound card) on a free port.
func startLinphone(t *testing.T) *linphone {
	t.Helper()
	bin := needTool(t, "linphonec")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	rtp := 30000 + 100*rand.IntN(90)
	rc := fmt.Sprintf("[sip]\nuse_ipv6=0\nsip_port=%d\nsip_tcp_port=0\nsip_tls_port=0\ndefault_proxy=-1\n[rtp]\naudio_rtp_port=%d\nvideo_rtp_port=%d\n[video]\nenabled=0\n",
		port, rtp, rtp+50)
	if err := os.WriteFile(filepath.Join(dir, "rc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &linphone{t: t, dir: dir, out: &lockedBuffer{}, done: make(chan struct{})}
	l.cmd = exec.Command(bin, "-c", filepath.Join(dir, "rc"))
	l.cmd.Env = append(os.Environ(), "HOME="+dir)
	l.cmd.Dir = dir
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	var err error
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		l.stop()
		if t.Failed() {
			t.Logf("linphonec output:\n%s", l.out.String())
		}
	})
	return l
}

// send writes one command line.
func (l *linphone) send(line string) {
	if _, err := io.WriteString(l.stdin, line+"\n"); err != nil {
		l.t.Errorf("linphonec %q: %v", line, err)
	}
}

// stop quits linphonec (then kills it after 5 s) and waits.
func (l *linphone) stop() {
	select {
	case <-l.done:
		return
	default:
	}
	_, _ = io.WriteString(l.stdin, "terminate\nquit\n")
	select {
	case <-l.done:
	case <-time.After(5 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.done
	}
}
