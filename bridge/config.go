package bridge

import (
	"fmt"
	"net"
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
}

// DefaultConfig returns the defaults: ports 40000–49999 and no public IP.
func DefaultConfig() Config {
	return Config{RTPPortMin: 40000, RTPPortMax: 49999}
}

// Validate checks the port range and the public IP.
func (c Config) Validate() error {
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 {
		return fmt.Errorf("rtp port range %d-%d: ports must lie within 1024-65535", c.RTPPortMin, c.RTPPortMax)
	}
	if c.RTPPortMax-c.RTPPortMin < 1 {
		return fmt.Errorf("rtp port range %d-%d: port_max must be above port_min (each call needs a pair)", c.RTPPortMin, c.RTPPortMax)
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return fmt.Errorf("public_ip %q is not an IP address", c.PublicIP)
	}
	return nil
}
