package video

import (
	"errors"
	"testing"
)

func TestAnswersKeepTheOfferedProfileAndCapTheLevelAtTheCeiling(t *testing.T) {
	tests := []struct {
		name, offer, want string
	}{
		{"Cisco's 42800d with max-* gets level 1.3 raised to 720p30 by max-*", "profile-level-id=42800d;max-mbps=245000;max-fs=8160;max-br=5000",
			"profile-level-id=42800d;packetization-mode=0;max-mbps=108000;max-fs=3600;max-br=1500"},
		{"Chromium's constrained baseline 3.1 in mode 1 is answered as offered", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			"profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1"},
		{"High 4.0 is lowered to level 3.1", "profile-level-id=640028;packetization-mode=1",
			"profile-level-id=64001f;packetization-mode=1"},
		{"no parameters at all mean Baseline level 1", "",
			"profile-level-id=42000a;packetization-mode=0;max-mbps=108000;max-fs=3600;max-br=1500"},
		{"level 1b (11 with set3) is lowered no further", "profile-level-id=42f00b",
			"profile-level-id=42f00b;packetization-mode=0;max-mbps=108000;max-fs=3600;max-br=1500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseH264Fmtp(tt.offer)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Supported() {
				t.Fatal("not supported")
			}
			if got := p.Answer(DefaultCeiling).Fmtp(); got != tt.want {
				t.Errorf("answer %q; want %q", got, tt.want)
			}
		})
	}
}

func TestProfileFlagsAndLimits(t *testing.T) {
	for _, tt := range []struct {
		plid string
		cb   bool
	}{{"42e01f", true}, {"42c01f", true}, {"42800d", false}, {"4d801f", true}, {"4d001f", false}, {"640028", false}} {
		p, err := ParseProfileLevelID(tt.plid)
		if err != nil {
			t.Fatal(err)
		}
		if p.ConstrainedBaseline() != tt.cb {
			t.Errorf("%s constrained baseline %v; want %v", tt.plid, !tt.cb, tt.cb)
		}
		if p.String() != tt.plid {
			t.Errorf("round trip %s -> %s", tt.plid, p)
		}
	}
	if _, err := ParseProfileLevelID("42e0"); !errors.Is(err, ErrProfileLevelID) {
		t.Errorf("short profile-level-id: %v", err)
	}
	if _, err := ParseH264Fmtp("profile-level-id=zzzzzz"); !errors.Is(err, ErrProfileLevelID) {
		t.Errorf("bad hex: %v", err)
	}
	p, _ := ParseH264Fmtp("profile-level-id=42800d;max-mbps=245000;max-fs=8160;max-fps=3000")
	if l := p.Effective(); l.MaxMBPS != 245000 || l.MaxFS != 8160 || l.MaxBR != 768 || l.MaxFPS != 3000 {
		t.Errorf("effective limits %+v", l)
	}
	if p, _ := ParseH264Fmtp("profile-level-id=53e01f"); p.Supported() {
		t.Error("SVC profile 0x53 accepted")
	}
	if p, _ := ParseH264Fmtp("profile-level-id=4200ff"); p.Supported() {
		t.Error("unknown level 0xff accepted")
	}
	if p, _ := ParseH264Fmtp("packetization-mode=2"); p.Supported() {
		t.Error("interleaved mode accepted")
	}
}

func TestCeilingsParse(t *testing.T) {
	c, err := ParseCeiling("720p30")
	if err != nil || c != DefaultCeiling {
		t.Fatalf("720p30 = %+v, %v; want %+v", c, err, DefaultCeiling)
	}
	if c, err := ParseCeiling("1080p30@4000k"); err != nil || c.Kbps != 4000 || c.level() != 40 {
		t.Errorf("1080p30@4000k = %+v level %d, %v", c, c.level(), err)
	}
	for _, bad := range []string{"", "720", "p30", "720p0", "720p30@1k", "99999p30"} {
		if _, err := ParseCeiling(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
