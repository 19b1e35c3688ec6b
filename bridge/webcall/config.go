package webcall

import (
	"fmt"
	"net/netip"
)

// Config is the WebRTC side of the bridge.
type Config struct {
	// UDPAddr is where all WebRTC media arrives (one UDP port for every
	// browser, pion's UDP mux), e.g. ":10000".
	UDPAddr string
	// TCPAddr is the ICE-TCP fallback port (RFC 6544) for networks that
	// block UDP; empty turns it off.
	TCPAddr string
	// PublicIP, when set, is announced in the host candidates in place of the
	// local addresses: the server is behind a 1:1 NAT (a cloud VM).
	PublicIP string
	// ICEServers are STUN and TURN servers handed to the browsers, for
	// browsers that can reach neither port directly.
	ICEServers []ICEServer
	// MaxTiles caps the video tracks each browser receives (active speakers
	// first); 0 means DefaultMaxTiles, negative means no video to browsers.
	MaxTiles int
	// TileBitrate caps what each browser's camera sends, in bit/s: the
	// server tells the browser with REMB (RFC draft-alvestrand-rmcat-remb).
	// It is also the share of a browser's downlink one tile is given: when
	// the browser's own REMB says its link carries less than that many
	// tiles, it gets fewer tiles (active speakers first) until the link
	// recovers. 0 means DefaultTileBitrate.
	TileBitrate int
}

// Defaults of Config.
const (
	DefaultUDPPort     = 10000
	DefaultTCPPort     = 10000
	DefaultMaxTiles    = 9
	DefaultTileBitrate = 1_000_000
)

func (c Config) withDefaults() Config {
	if c.UDPAddr == "" {
		c.UDPAddr = fmt.Sprintf(":%d", DefaultUDPPort)
	}
	if c.MaxTiles == 0 {
		c.MaxTiles = DefaultMaxTiles
	}
	if c.MaxTiles < 0 {
		c.MaxTiles = 0
	}
	if c.TileBitrate <= 0 {
		c.TileBitrate = DefaultTileBitrate
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.PublicIP != "" {
		if _, err := netip.ParseAddr(c.PublicIP); err != nil {
			return fmt.Errorf("webrtc public_ip %q: not an IP address", c.PublicIP)
		}
	}
	for i, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("webrtc turn[%d]: no urls", i)
		}
	}
	return nil
}
