package sipcall

import (
	"fmt"
	"net"
	"strconv"
)

// Defaults for Config fields left empty.
const (
	DefaultAddr      = ":5060"
	DefaultUserAgent = "Bifrost"
)

// Config configures the SIP server.
type Config struct {
	// Addr is the host:port bound for both UDP and TCP. Default ":5060".
	Addr string
	// Domain is the SIP domain we serve, e.g. "video.example". It may be
	// empty; the skeleton accepts requests for any host.
	Domain string
	// UserAgent is the value of the Server header on our responses and of
	// User-Agent on our requests. Default "Bifrost".
	UserAgent string
}

// withDefaults returns c with empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	return c
}

// Validate reports whether Addr (or its default) is a host:port with a
// numeric port in 0-65535.
func (c Config) Validate() error {
	c = c.withDefaults()
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("sipcall: addr %q: %w", c.Addr, err)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("sipcall: addr %q: %w", c.Addr, err)
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
