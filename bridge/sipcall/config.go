package sipcall

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/video"
)

// Defaults for Config fields left empty.
const (
	DefaultAddr           = ":5060"
	DefaultUserAgent      = "Bifrost"
	DefaultSessionExpires = 1800 * time.Second
	DefaultMinSE          = 90 * time.Second
)

// Config configures the SIP server.
type Config struct {
	// Addr is the host:port bound for both UDP and TCP. Default ":5060".
	Addr string
	// Domain is the SIP domain we serve, e.g. "video.example". It may be
	// empty; the server accepts requests for any host.
	Domain string
	// UserAgent is the value of the Server header on our responses and of
	// User-Agent on our requests. Default "Bifrost".
	UserAgent string

	// Rooms routes calls into rooms. Without it every new INVITE gets 480.
	Rooms Rooms
	// Media holds the RTP port range and the public IP announced in SDP.
	// A zero port range takes bridge.DefaultConfig()'s.
	Media bridge.Config
	// DisableLatching sends RTP to the address in the peer's SDP instead
	// of to the source of its RTP (symmetric RTP, RFC 4961, the default,
	// which is what makes callers behind NAT work).
	DisableLatching bool
	// RTPTimeout ends a call that received no RTP for this long while the
	// peer should be sending. Default 30 s.
	RTPTimeout time.Duration
	// SessionExpires is the session interval we take when the caller
	// supports session timers but names none (RFC 4028). Default 1800 s.
	SessionExpires time.Duration
	// MinSE is the smallest session interval we accept; smaller ones get
	// 422 (RFC 4028 §6). Default and floor 90 s.
	MinSE time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// VideoMax is the most video any endpoint may send (declared in our
	// answers); zero means video.DefaultCeiling, 720p30 at 1.5 Mbit/s.
	VideoMax video.Ceiling
	// DisableVideo answers every video m-line with port 0.
	DisableVideo bool

	// beforeAnswer, nil but in tests, runs between admission and the 200
	// (to land a CANCEL there).
	beforeAnswer func(*call)
}

// withDefaults returns c with empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Media.RTPPortMin == 0 && c.Media.RTPPortMax == 0 {
		d := bridge.DefaultConfig()
		c.Media.RTPPortMin, c.Media.RTPPortMax = d.RTPPortMin, d.RTPPortMax
	}
	if c.RTPTimeout <= 0 {
		c.RTPTimeout = DefaultRTPTimeout
	}
	if c.SessionExpires <= 0 {
		c.SessionExpires = DefaultSessionExpires
	}
	if c.MinSE < DefaultMinSE {
		c.MinSE = DefaultMinSE
	}
	if c.SessionExpires < c.MinSE {
		c.SessionExpires = c.MinSE
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.VideoMax = videoCeiling(c.VideoMax)
	return c
}

// Validate reports whether Addr (or its default) is a host:port with a
// numeric port in 0-65535, and whether the media settings hold.
func (c Config) Validate() error {
	c = c.withDefaults()
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("sipcall: addr %q: %w", c.Addr, err)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("sipcall: addr %q: %w", c.Addr, err)
	}
	if err := c.Media.Validate(); err != nil {
		return fmt.Errorf("sipcall: %w", err)
	}
	return nil
}

// parsePort parses a decimal port number in 0-65535.
func parsePort(s string) (int, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number in 0-65535", s)
	}
	return int(p), nil
}
