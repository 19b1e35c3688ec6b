package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/emiago/sipgo/sip"
)

// sipConfig is what `bifrost-load sip` is asked to do.
type sipConfig struct {
	Target      sip.Uri
	Callers     int
	Codec       media.AudioCodec
	Duration    time.Duration // each call's time in the room after joining
	Rate        float64       // new calls per second
	PIN         string
	MaxFailures int
	Video       string
	TalkTurn    time.Duration // with Video: each caller's turn to talk; 0 for no turns
	SwitchLog   string        // with Video: a file for one line per switch seen
	LocalIP     netip.Addr    // invalid: the address that routes to the target
	Timeout     time.Duration // for an answer, the PIN prompt and the BYE
	Progress    time.Duration // between progress lines; 0 for none
}

// codecs are the values of --codec.
var codecs = map[string]media.AudioCodec{"opus": media.Opus, "g722": media.G722, "pcmu": media.PCMU, "pcma": media.PCMA}

const sipUsage = `usage: bifrost-load sip --target sip:ROOM@HOST[:PORT] [flags]

Places --callers SIP calls into a Bifrost room and reports what they got.
`

// parseSIPFlags reads the flags of `bifrost-load sip`. Errors wrap
// errUsage.
func parseSIPFlags(args []string, stderr io.Writer) (sipConfig, error) {
	fs := flag.NewFlagSet("bifrost-load sip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, sipUsage)
		fs.PrintDefaults()
	}
	target := fs.String("target", "", "the room to dial, sip:ROOM@HOST[:PORT] (required)")
	callers := fs.Int("callers", 10, "how many calls to place")
	codec := fs.String("codec", "opus", "the audio codec every call offers: opus, g722, pcmu or pcma")
	duration := fs.Duration("duration", 60*time.Second, "how long each call stays in the room after joining")
	rate := fs.Float64("rate", 5, "new calls per second")
	pin := fs.String("pin", "", "the room's PIN, keyed as RFC 4733 telephone-events followed by #")
	maxFailures := fs.Int("max-failures", 0, "exit with status 1 when more calls than this fail")
	video := fs.String("video", "", "a synthetic video stream as well: h264 (720p-sized, 30 fps, ~1 Mbit/s, answering PLI/FIR/INFO with an IDR)")
	talkTurn := fs.Duration("talk-turn", 3*time.Second, "with --video: the callers talk in turn this long each, the others silent, so the bridge switches video; 0 for everyone's speech loop")
	switchLog := fs.String("switch-log", "", "with --video: write one line per video switch a caller saw to this file (unix-ns receiver from to keyframe gap µs-from-talk µs-from-keyframe-request)")
	localIP := fs.String("local-ip", "", "the local address for SIP and RTP (default: the one that routes to the target)")
	timeout := fs.Duration("timeout", 15*time.Second, "how long to wait for an answer, the PIN prompt or a BYE's response")
	progress := fs.Duration("progress", time.Second, "time between progress lines on stderr; 0 for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return sipConfig{}, err
		}
		return sipConfig{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return sipConfig{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg := sipConfig{
		Callers: *callers, Duration: *duration, Rate: *rate, PIN: *pin, MaxFailures: *maxFailures,
		Video: *video, TalkTurn: *talkTurn, SwitchLog: *switchLog, Timeout: *timeout, Progress: *progress,
	}
	if *target == "" {
		return cfg, fmt.Errorf("%w: --target is required", errUsage)
	}
	if err := sip.ParseUri(*target, &cfg.Target); err != nil || cfg.Target.User == "" || cfg.Target.Host == "" {
		return cfg, fmt.Errorf("%w: --target %q: want sip:ROOM@HOST[:PORT]", errUsage, *target)
	}
	c, ok := codecs[strings.ToLower(*codec)]
	if !ok {
		return cfg, fmt.Errorf("%w: --codec %q: want opus, g722, pcmu or pcma", errUsage, *codec)
	}
	cfg.Codec = c
	switch {
	case cfg.Callers < 1:
		return cfg, fmt.Errorf("%w: --callers %d: want at least 1", errUsage, cfg.Callers)
	case cfg.Duration <= 0:
		return cfg, fmt.Errorf("%w: --duration %s: want more than 0", errUsage, cfg.Duration)
	case cfg.Rate <= 0:
		return cfg, fmt.Errorf("%w: --rate %g: want more than 0", errUsage, cfg.Rate)
	case cfg.MaxFailures < 0:
		return cfg, fmt.Errorf("%w: --max-failures %d: want 0 or more", errUsage, cfg.MaxFailures)
	case cfg.TalkTurn < 0:
		return cfg, fmt.Errorf("%w: --talk-turn %s: want 0 or more", errUsage, cfg.TalkTurn)
	case cfg.Timeout <= 0:
		return cfg, fmt.Errorf("%w: --timeout %s: want more than 0", errUsage, cfg.Timeout)
	}
	for _, d := range []byte(cfg.PIN) {
		if _, ok := eventCode(d); !ok {
			return cfg, fmt.Errorf("%w: --pin: %q is not a DTMF digit", errUsage, d)
		}
	}
	if *localIP != "" {
		ip, err := netip.ParseAddr(*localIP)
		if err != nil {
			return cfg, fmt.Errorf("%w: --local-ip %q: %v", errUsage, *localIP, err)
		}
		cfg.LocalIP = ip
	}
	return cfg, nil
}
