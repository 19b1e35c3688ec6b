package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestSIPFlags(t *testing.T) {
	cfg, err := parseSIPFlags([]string{"--target", "sip:1234@127.0.0.1:5070", "--callers", "50", "--codec", "G722",
		"--duration", "90s", "--rate", "2.5", "--pin", "1357", "--max-failures", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target.User != "1234" || cfg.Target.Host != "127.0.0.1" || cfg.Target.Port != 5070 || cfg.Callers != 50 ||
		cfg.Codec.Name != "G722" || cfg.Duration != 90*time.Second || cfg.Rate != 2.5 || cfg.PIN != "1357" || cfg.MaxFailures != 3 {
		t.Errorf("config %+v; want every flag taken", cfg)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{}, "--target is required"},
		{"a target without a room", []string{"--target", "sip:host"}, "want sip:ROOM@HOST"},
		{"an unknown codec", []string{"--target", "sip:1@h", "--codec", "amr"}, "--codec"},
		{"no callers", []string{"--target", "sip:1@h", "--callers", "0"}, "--callers"},
		{"a PIN that is no digits", []string{"--target", "sip:1@h", "--pin", "12x"}, "not a DTMF digit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSIPFlags(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want one saying %q", err, tt.want)
			}
		})
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := percentile(ds, 50); got != 5 {
		t.Errorf("p50 = %d; want 5", got)
	}
	if got := percentile(ds, 99); got != 10 {
		t.Errorf("p99 = %d; want 10", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %d; want 0", got)
	}
}
