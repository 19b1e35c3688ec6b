package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWebRTCFlags(t *testing.T) {
	cfg, err := parseWebRTCFlags([]string{"--url", "https://bridge.example/join/1234", "--peers", "20", "--pin", "1357",
		"--duration", "90s", "--video", "--max-failures", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Peers != 20 || cfg.PIN != "1357" || cfg.Duration != 90*time.Second || !cfg.Video || cfg.MaxFailures != 2 {
		t.Errorf("config %+v; want every flag taken", cfg)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", []string{}, "--url is required"},
		{"a URL that is no join page", []string{"--url", "http://h/admin"}, "want http(s)://HOST/join/ROOM"},
		{"a URL without a room", []string{"--url", "http://h/join/"}, "want http(s)://HOST/join/ROOM"},
		{"a URL of another scheme", []string{"--url", "ftp://h/join/1"}, "want http(s)://HOST/join/ROOM"},
		{"no peers", []string{"--url", "http://h/join/1", "--peers", "0"}, "--peers"},
		{"a PIN that is no digits", []string{"--url", "http://h/join/1", "--pin", "12x"}, "digits only"},
		{"a talk turn shorter than a frame", []string{"--url", "http://h/join/1", "--talk", "1ms"}, "--talk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWebRTCFlags(tt.args, io.Discard)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want a usage error saying %q", err, tt.want)
			}
		})
	}
}

func TestSocketURLIsTheJoinPagesWebSocket(t *testing.T) {
	for page, want := range map[string]string{
		"http://bridge.example/join/1234":       "ws://bridge.example/join/1234/ws",
		"https://bridge.example:8443/join/1234": "wss://bridge.example:8443/join/1234/ws",
		"https://bridge.example/join/1234/?x=1": "wss://bridge.example/join/1234/ws",
		"wss://bridge.example/join/1234/ws":     "wss://bridge.example/join/1234/ws",
	} {
		got, err := socketURL(page)
		if err != nil || got != want {
			t.Errorf("socketURL(%q) = %q, %v; want %q", page, got, err, want)
		}
	}
}
