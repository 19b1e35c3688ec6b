package webadmin

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		remote  string
		xff     []string
		want    string
	}{
		{"a direct client is its peer", nil, "198.51.100.7:4000", nil, "198.51.100.7"},
		{"a direct client cannot claim another address", nil, "198.51.100.7:4000", []string{"203.0.113.1"}, "198.51.100.7"},
		{"a local proxy names the client", nil, "127.0.0.1:4000", []string{"203.0.113.1"}, "203.0.113.1"},
		{"what the client prepended is ignored", nil, "127.0.0.1:4000", []string{"10.9.9.9, 203.0.113.1"}, "203.0.113.1"},
		{"a chain of trusted proxies is walked", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1:1", []string{"203.0.113.1, 10.0.0.5", "10.0.0.6"}, "203.0.113.1"},
		{"an empty list trusts no proxy", []string{}, "127.0.0.1:4000", []string{"203.0.113.1"}, "127.0.0.1"},
		{"a malformed hop stops the walk", nil, "127.0.0.1:4000", []string{"203.0.113.1, junk"}, "127.0.0.1"},
		{"IPv6 loopback is trusted by default", nil, "[::1]:4000", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TrustedProxies = tt.proxies
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			s := New(cfg, Deps{})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, x := range tt.xff {
				r.Header.Add("X-Forwarded-For", x)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	bad := DefaultConfig()
	bad.TrustedProxies = []string{"not-an-ip"}
	if err := bad.Validate(); err == nil {
		t.Error("a malformed trusted proxy is accepted")
	}
}
