package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// webrtcConfig is what `bifrost-load webrtc` is asked to do.
type webrtcConfig struct {
	// URL is the room's join page, http(s)://HOST/join/ALIAS; the
	// signalling WebSocket is its /ws (webcall.PatternSocket).
	URL         string
	Peers       int
	PIN         string
	Duration    time.Duration // each peer's time in the room after joining
	Rate        float64       // new peers per second
	Video       bool
	Idle        bool          // joined and muted, sending nothing
	Talk        time.Duration // each peer's turn as the talker
	MaxFailures int
	Timeout     time.Duration // for the join, the media connection
	Progress    time.Duration // between progress lines; 0 for none
}

const webrtcUsage = `usage: bifrost-load webrtc --url http://HOST/join/ROOM [flags]

Joins --peers WebRTC peers (pion) to a Bifrost room through the join page's
signalling WebSocket and reports what they got.
`

// parseWebRTCFlags reads the flags of `bifrost-load webrtc`. Errors wrap
// errUsage.
func parseWebRTCFlags(args []string, stderr io.Writer) (webrtcConfig, error) {
	fs := flag.NewFlagSet("bifrost-load webrtc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, webrtcUsage)
		fs.PrintDefaults()
	}
	u := fs.String("url", "", "the room's join page, http(s)://HOST/join/ROOM (required)")
	peers := fs.Int("peers", 10, "how many peers to join")
	pin := fs.String("pin", "", "the room's PIN")
	duration := fs.Duration("duration", 60*time.Second, "how long each peer stays in the room after joining")
	rate := fs.Float64("rate", 5, "new peers per second")
	video := fs.Bool("video", false, "each peer sends a synthetic H.264 camera as well, answering keyframe requests")
	idle := fs.Bool("idle", false, "each peer joins muted and sends nothing: an idle participant (not with --video)")
	talk := fs.Duration("talk", 3*time.Second, "each peer's turn as the one talker; the others send silence")
	maxFailures := fs.Int("max-failures", 0, "exit with status 1 when more peers than this fail")
	timeout := fs.Duration("timeout", 15*time.Second, "how long to wait for the join and for the media connection")
	progress := fs.Duration("progress", time.Second, "time between progress lines on stderr; 0 for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return webrtcConfig{}, err
		}
		return webrtcConfig{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return webrtcConfig{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg := webrtcConfig{
		URL: *u, Peers: *peers, PIN: *pin, Duration: *duration, Rate: *rate, Video: *video, Idle: *idle, Talk: *talk,
		MaxFailures: *maxFailures, Timeout: *timeout, Progress: *progress,
	}
	if cfg.URL == "" {
		return cfg, fmt.Errorf("%w: --url is required", errUsage)
	}
	if _, err := socketURL(cfg.URL); err != nil {
		return cfg, err
	}
	switch {
	case cfg.Peers < 1:
		return cfg, fmt.Errorf("%w: --peers %d: want at least 1", errUsage, cfg.Peers)
	case cfg.Duration <= 0:
		return cfg, fmt.Errorf("%w: --duration %s: want more than 0", errUsage, cfg.Duration)
	case cfg.Rate <= 0:
		return cfg, fmt.Errorf("%w: --rate %g: want more than 0", errUsage, cfg.Rate)
	case cfg.Talk < frameDuration:
		return cfg, fmt.Errorf("%w: --talk %s: want at least %s", errUsage, cfg.Talk, frameDuration)
	case cfg.Idle && cfg.Video:
		return cfg, fmt.Errorf("%w: --idle peers send no video", errUsage)
	case cfg.MaxFailures < 0:
		return cfg, fmt.Errorf("%w: --max-failures %d: want 0 or more", errUsage, cfg.MaxFailures)
	case cfg.Timeout <= 0:
		return cfg, fmt.Errorf("%w: --timeout %s: want more than 0", errUsage, cfg.Timeout)
	}
	for i := 0; i < len(cfg.PIN); i++ {
		if cfg.PIN[i] < '0' || cfg.PIN[i] > '9' {
			return cfg, fmt.Errorf("%w: --pin: want digits only", errUsage)
		}
	}
	return cfg, nil
}

// socketURL is the signalling WebSocket of a join page: ws(s)://HOST/join/ROOM/ws.
func socketURL(page string) (string, error) {
	u, err := url.Parse(page)
	if err != nil {
		return "", fmt.Errorf("%w: --url %q: %v", errUsage, page, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("%w: --url %q: want http(s)://HOST/join/ROOM", errUsage, page)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if u.Host == "" || !strings.HasPrefix(path, "/join/") || len(path) == len("/join/") {
		return "", fmt.Errorf("%w: --url %q: want http(s)://HOST/join/ROOM", errUsage, page)
	}
	if !strings.HasSuffix(path, "/ws") {
		path += "/ws"
	}
	u.Path, u.RawQuery, u.Fragment = path, "", ""
	return u.String(), nil
}
