package bridge

import (
	"fmt"
	"net"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// Config is the media configuration of the bridge.
type Config struct {
	// RTPPortMin and RTPPortMax bound the UDP ports used for RTP and RTCP; each
	// SIP leg takes a pair of them.
	RTPPortMin int
	RTPPortMax int
	// PublicIP is the address announced in SDP when the bridge sits behind a 1:1
	// NAT; empty means the address of the interface the call arrived on.
	PublicIP string

	// PINTimeout bounds the whole PIN entry of a caller, from admission to the
	// last attempt; PINDigitTimeout the wait for the next digit (or the first,
	// after the prompt). PINAttempts is how many wrong PINs a caller may enter
	// before being hung up. Zero means the default.
	PINTimeout      time.Duration
	PINDigitTimeout time.Duration
	PINAttempts     int
	// WaitPromptInterval is the silence between repeats of the "waiting for the
	// host" prompt. Zero means the default.
	WaitPromptInterval time.Duration
	// QualityInterval is how often each leg's statistics go to the
	// CallObserver. Zero means the default.
	QualityInterval time.Duration
	// MaxSpeakers is how many of the loudest participants each listener hears.
	// Zero means the default.
	MaxSpeakers int
	// VideoTiles is how many sources a VideoForwarded leg (a browser) gets at
	// most, active speakers first. Zero means the default.
	VideoTiles int
	// VideoSwitchTimeout is how long a VideoSwitched leg keeps showing the
	// previous speaker while the bridge waits for the new speaker's keyframe;
	// after it, the switch happens at the next frame anyway. Zero means the
	// default.
	VideoSwitchTimeout time.Duration
	// OpusComplexity is the complexity (1 to 10) of the Opus encoders that
	// encode a room's mixes: the mixer's capacity knob, as encoding is most
	// of an Opus room's CPU. Zero means media.DefaultMixerOpusComplexity.
	OpusComplexity int
}

// Defaults of the room and IVR settings.
const (
	DefaultPINTimeout         = 60 * time.Second
	DefaultPINDigitTimeout    = 8 * time.Second
	DefaultPINAttempts        = 3
	DefaultWaitPromptInterval = 15 * time.Second
	DefaultQualityInterval    = 10 * time.Second
	DefaultMaxSpeakers        = 3
	DefaultVideoTiles         = 9
	DefaultVideoSwitchTimeout = 2 * time.Second
)

// withDefaults returns c with its zero room and IVR settings set to the defaults.
func (c Config) withDefaults() Config {
	if c.PINTimeout == 0 {
		c.PINTimeout = DefaultPINTimeout
	}
	if c.PINDigitTimeout == 0 {
		c.PINDigitTimeout = DefaultPINDigitTimeout
	}
	if c.PINAttempts == 0 {
		c.PINAttempts = DefaultPINAttempts
	}
	if c.WaitPromptInterval == 0 {
		c.WaitPromptInterval = DefaultWaitPromptInterval
	}
	if c.QualityInterval == 0 {
		c.QualityInterval = DefaultQualityInterval
	}
	if c.MaxSpeakers == 0 {
		c.MaxSpeakers = DefaultMaxSpeakers
	}
	if c.VideoTiles == 0 {
		c.VideoTiles = DefaultVideoTiles
	}
	if c.VideoSwitchTimeout == 0 {
		c.VideoSwitchTimeout = DefaultVideoSwitchTimeout
	}
	return c
}

// DefaultConfig returns the defaults: ports 40000–49999 and no public IP.
func DefaultConfig() Config {
	return Config{RTPPortMin: 40000, RTPPortMax: 49999, OpusComplexity: media.DefaultMixerOpusComplexity}
}

// Validate checks the port range and the public IP.
func (c Config) Validate() error {
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 {
		return fmt.Errorf("rtp port range %d-%d: ports must lie within 1024-65535", c.RTPPortMin, c.RTPPortMax)
	}
	if c.RTPPortMax-c.RTPPortMin < 1 {
		return fmt.Errorf("rtp port range %d-%d: port_max must be above port_min (each call needs a pair)", c.RTPPortMin, c.RTPPortMax)
	}
	if c.OpusComplexity < 0 || c.OpusComplexity > 10 {
		return fmt.Errorf("opus complexity %d: must lie within 1-10 (0 for the default)", c.OpusComplexity)
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return fmt.Errorf("public_ip %q is not an IP address", c.PublicIP)
	}
	if c.PINTimeout < 0 || c.PINDigitTimeout < 0 || c.WaitPromptInterval < 0 || c.QualityInterval < 0 {
		return fmt.Errorf("bridge: timeouts and intervals must not be negative")
	}
	if c.VideoSwitchTimeout < 0 {
		return fmt.Errorf("bridge: video switch timeout must not be negative")
	}
	if c.PINAttempts < 0 || c.MaxSpeakers < 0 || c.VideoTiles < 0 {
		return fmt.Errorf("bridge: pin attempts, max speakers and video tiles must not be negative")
	}
	return nil
}
