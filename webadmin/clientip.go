package webadmin

import (
	"net"
	"net/http"
	"strings"
)

// clientIP is the address a request comes from: the connection's peer, or —
// when the peer is a trusted reverse proxy — the right-most address in
// X-Forwarded-For that is not itself a trusted proxy (the left part of the
// header is whatever the client chose to send).
func (s *Server) clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !s.trustedProxy(net.ParseIP(host)) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break // a malformed hop: trust nothing left of it
		}
		host = ip.String()
		if !s.trustedProxy(ip) {
			break
		}
	}
	return host
}

func (s *Server) trustedProxy(ip net.IP) bool {
	if ip == nil {
		return false
	}
	for _, n := range s.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
