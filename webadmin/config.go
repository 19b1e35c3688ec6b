package webadmin

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// Config is the HTTP server's configuration.
type Config struct {
	// Addr is the listen address, host:port. The default, 127.0.0.1:8080, is
	// reachable only from the machine itself; use ":8080" (or a reverse proxy) to
	// open it up.
	Addr string
	// PublicURL is the base URL people and endpoints use to reach this server
	// (e.g. https://video.example); empty means http://Addr.
	PublicURL string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{Addr: "127.0.0.1:8080"} }

// Validate checks the listen address and the public URL.
func (c Config) Validate() error {
	if err := validateHostPort(c.Addr); err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http.public_url %q: want an absolute http or https URL", c.PublicURL)
		}
	}
	return nil
}

func validateHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port must be a number from 0 to 65535", addr)
	}
	return nil
}
