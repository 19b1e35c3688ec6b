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
	// TrustedProxies are the addresses (CIDRs) of reverse proxies whose
	// X-Forwarded-For names the client, for the audit log's source IP and
	// sign-in throttling per address. nil means loopback only (a proxy on the
	// same machine); an empty list trusts none.
	TrustedProxies []string
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
	if _, err := parseCIDRs(c.TrustedProxies); err != nil {
		return fmt.Errorf("http.trusted_proxies: %w", err)
	}
	return nil
}

// defaultTrustedProxies is what a nil Config.TrustedProxies means.
var defaultTrustedProxies = []string{"127.0.0.0/8", "::1/128"}

func parseCIDRs(list []string) ([]*net.IPNet, error) {
	if list == nil {
		list = defaultTrustedProxies
	}
	out := make([]*net.IPNet, 0, len(list))
	for _, c := range list {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			if ip := net.ParseIP(c); ip != nil {
				bits := 8 * len(ip.To16())
				if ip.To4() != nil {
					ip, bits = ip.To4(), 32
				}
				n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
			} else {
				return nil, fmt.Errorf("%q is not an address or CIDR", c)
			}
		}
		out = append(out, n)
	}
	return out, nil
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
