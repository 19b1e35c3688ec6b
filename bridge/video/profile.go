package video

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ProfileLevelID is the H.264 profile-level-id parameter (RFC 6184 §8.1):
// profile_idc, the constraint flags byte (profile-iop) and level_idc.
type ProfileLevelID struct {
	ProfileIDC uint8
	IOP        uint8 // constraint_set0_flag is 0x80, set1 0x40, set2 0x20, set3 0x10
	LevelIDC   uint8
}

// The profile_idc values we negotiate (ITU-T H.264 Annex A).
const (
	ProfileBaseline = 0x42
	ProfileMain     = 0x4d
	ProfileHigh     = 0x64
)

// DefaultProfileLevelID is what an fmtp without profile-level-id means:
// Baseline, level 1 (RFC 6184 §8.1).
var DefaultProfileLevelID = ProfileLevelID{ProfileBaseline, 0, 10}

// ParseProfileLevelID reads six hex digits.
func ParseProfileLevelID(s string) (ProfileLevelID, error) {
	if len(s) != 6 {
		return ProfileLevelID{}, fmt.Errorf("%w: %q", ErrProfileLevelID, s)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return ProfileLevelID{}, fmt.Errorf("%w: %q", ErrProfileLevelID, s)
	}
	return ProfileLevelID{b[0], b[1], b[2]}, nil
}

// String gives the six hex digits, lower case.
func (p ProfileLevelID) String() string {
	return hex.EncodeToString([]byte{p.ProfileIDC, p.IOP, p.LevelIDC})
}

// ConstrainedBaseline reports whether streams of p conform to the
// Constrained Baseline profile (H.264 §A.2.1.1, RFC 6184 Table 5): Baseline
// with constraint_set1, Main with constraint_set0 (the 0x80 flag that
// Cisco and Polycom send as 42800d is Baseline with set0: Baseline streams
// that Main decoders take too, still not Constrained Baseline).
func (p ProfileLevelID) ConstrainedBaseline() bool {
	switch p.ProfileIDC {
	case ProfileBaseline:
		return p.IOP&0x40 != 0
	case ProfileMain:
		return p.IOP&0x80 != 0
	}
	return false
}

// level1b reports whether p's level is 1b (level_idc 11 with
// constraint_set3 in Baseline and Main, or level_idc 9, H.264 §A.3.1).
func (p ProfileLevelID) level1b() bool {
	if p.LevelIDC == 9 {
		return true
	}
	return p.LevelIDC == 11 && p.IOP&0x10 != 0 && (p.ProfileIDC == ProfileBaseline || p.ProfileIDC == ProfileMain)
}

// Limits are the decoder limits of a level or of the max-* parameters of
// RFC 6184 §8.1: macroblocks per second, frame size in macroblocks, bit rate
// in kbit/s and frame rate in 1/100 frames per second (max-fps, 0 meaning
// none).
type Limits struct {
	MaxMBPS int
	MaxFS   int
	MaxBR   int
	MaxFPS  int
}

// levels is H.264 Table A-1 for the Baseline, Main and Extended profiles
// (MaxBR in units of 1000 bit/s), with 1b as level_idc 9.
var levels = []struct {
	idc uint8
	Limits
}{
	{10, Limits{1485, 99, 64, 0}},
	{9, Limits{1485, 99, 128, 0}},
	{11, Limits{3000, 396, 192, 0}},
	{12, Limits{6000, 396, 384, 0}},
	{13, Limits{11880, 396, 768, 0}},
	{20, Limits{11880, 396, 2000, 0}},
	{21, Limits{19800, 792, 4000, 0}},
	{22, Limits{20250, 1620, 4000, 0}},
	{30, Limits{40500, 1620, 10000, 0}},
	{31, Limits{108000, 3600, 14000, 0}},
	{32, Limits{216000, 5120, 20000, 0}},
	{40, Limits{245760, 8192, 20000, 0}},
	{41, Limits{245760, 8192, 50000, 0}},
	{42, Limits{522240, 8704, 50000, 0}},
	{50, Limits{589824, 22080, 135000, 0}},
	{51, Limits{983040, 36864, 240000, 0}},
	{52, Limits{2073600, 36864, 240000, 0}},
}

// levelRank orders p's level (1b between 1 and 1.1); unknown levels rank
// as level 1 (Supported refuses them).
func levelRank(p ProfileLevelID) int {
	i, _ := levelIndex(p)
	return i
}

func levelIndex(p ProfileLevelID) (int, bool) {
	idc := p.LevelIDC
	if p.level1b() {
		idc = 9
	}
	for i, l := range levels {
		if l.idc == idc {
			return i, true
		}
	}
	return 0, false
}

// LevelLimits returns the limits of p's level.
func LevelLimits(p ProfileLevelID) Limits { return levels[levelRank(p)].Limits }

// Ceiling is the most video the bridge lets any endpoint send, declared in
// its answers so that every endpoint in a room can decode every other's
// stream without transcoding.
type Ceiling struct {
	Width, Height int
	FPS           int
	Kbps          int
}

// DefaultCeiling is 720p30 at 1.5 Mbit/s.
var DefaultCeiling = Ceiling{Width: 1280, Height: 720, FPS: 30, Kbps: 1500}

// ParseCeiling reads "720p30" (16:9 lines and frames per second), with an
// optional "@1500k" bit rate; without it the bit rate scales from 1.5
// Mbit/s at 720p30.
func ParseCeiling(s string) (Ceiling, error) {
	res, rate, hasRate := strings.Cut(strings.TrimSpace(strings.ToLower(s)), "@")
	h, fps, ok := strings.Cut(res, "p")
	lines, err1 := strconv.Atoi(h)
	f, err2 := strconv.Atoi(fps)
	if !ok || err1 != nil || err2 != nil || lines < 90 || lines > 2160 || f < 1 || f > 60 {
		return Ceiling{}, fmt.Errorf("video: ceiling %q: want lines p frames, e.g. 720p30", s)
	}
	c := Ceiling{Width: (lines*16/9 + 15) &^ 15, Height: lines, FPS: f}
	if hasRate {
		k, err := strconv.Atoi(strings.TrimSuffix(rate, "k"))
		if err != nil || k < 64 || k > 100000 {
			return Ceiling{}, fmt.Errorf("video: ceiling %q: bit rate must be 64k-100000k", s)
		}
		c.Kbps = k
	} else {
		c.Kbps = max(128, 1500*c.Width*c.Height/(1280*720)*f/30)
	}
	return c, nil
}

// String gives the form ParseCeiling reads.
func (c Ceiling) String() string { return fmt.Sprintf("%dp%d@%dk", c.Height, c.FPS, c.Kbps) }

// Limits are the ceiling's decoder limits.
func (c Ceiling) Limits() Limits {
	fs := ((c.Width + 15) / 16) * ((c.Height + 15) / 16)
	return Limits{MaxMBPS: fs * c.FPS, MaxFS: fs, MaxBR: c.Kbps, MaxFPS: c.FPS * 100}
}

// level returns the lowest level whose limits hold the ceiling's frame
// size and rate.
func (c Ceiling) level() uint8 {
	l := c.Limits()
	for _, lv := range levels {
		if lv.MaxFS >= l.MaxFS && lv.MaxMBPS >= l.MaxMBPS && lv.idc != 9 {
			return lv.idc
		}
	}
	return 52
}

// H264Params are the H.264 format parameters of one payload type (RFC 6184
// §8.1) that negotiation looks at.
type H264Params struct {
	ProfileLevelID    ProfileLevelID
	PacketizationMode int
	// Limits holds the max-* parameters; zero fields were not given.
	Limits Limits
	// LevelAsymmetry is level-asymmetry-allowed=1.
	LevelAsymmetry bool
}

// ParseH264Fmtp reads an a=fmtp value (without the payload type). Unknown
// parameters are ignored; a malformed profile-level-id is an error.
func ParseH264Fmtp(s string) (H264Params, error) {
	p := H264Params{ProfileLevelID: DefaultProfileLevelID}
	for kv := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		n, nerr := strconv.Atoi(v)
		switch k {
		case "profile-level-id":
			plid, err := ParseProfileLevelID(v)
			if err != nil {
				return p, err
			}
			p.ProfileLevelID = plid
		case "packetization-mode":
			if nerr == nil {
				p.PacketizationMode = n
			}
		case "max-mbps":
			p.Limits.MaxMBPS = max(0, n)
		case "max-fs":
			p.Limits.MaxFS = max(0, n)
		case "max-br":
			p.Limits.MaxBR = max(0, n)
		case "max-fps":
			p.Limits.MaxFPS = max(0, n)
		case "level-asymmetry-allowed":
			p.LevelAsymmetry = v == "1"
		}
	}
	return p, nil
}

// Supported reports whether the bridge takes this format: Baseline
// (Constrained or not), Main or High profile at a level of H.264 Table
// A-1, in packetization mode 0 or 1.
func (p H264Params) Supported() bool {
	switch p.ProfileLevelID.ProfileIDC {
	case ProfileBaseline, ProfileMain, ProfileHigh:
	default:
		return false
	}
	if _, ok := levelIndex(p.ProfileLevelID); !ok {
		return false
	}
	return p.PacketizationMode == 0 || p.PacketizationMode == 1
}

// Effective returns the decoder limits p declares: its level's, raised by
// its max-* parameters (RFC 6184 §8.1: they only ever raise the level's).
func (p H264Params) Effective() Limits {
	l := LevelLimits(p.ProfileLevelID)
	l.MaxMBPS = max(l.MaxMBPS, p.Limits.MaxMBPS)
	l.MaxFS = max(l.MaxFS, p.Limits.MaxFS)
	l.MaxBR = max(l.MaxBR, p.Limits.MaxBR)
	l.MaxFPS = p.Limits.MaxFPS
	return l
}

// Answer returns our answer to an offered H.264 format under ceiling c
// (RFC 6184 §8.2.2): the offered profile and constraint flags (the 0x80
// flag kept, so the answer names the same profile), the lower of the
// offered level and the ceiling's (an answer may not raise the level
// without level-asymmetry-allowed), the offered packetization mode, and
// max-mbps, max-fs and max-br where the ceiling lies above that level's
// limits, so that what we declare we receive is exactly the ceiling.
func (p H264Params) Answer(c Ceiling) H264Params {
	a := H264Params{PacketizationMode: p.PacketizationMode, LevelAsymmetry: p.LevelAsymmetry}
	a.ProfileLevelID = p.ProfileLevelID
	ceil := ProfileLevelID{p.ProfileLevelID.ProfileIDC, p.ProfileLevelID.IOP &^ 0x10, c.level()}
	if levelRank(ceil) < levelRank(p.ProfileLevelID) {
		a.ProfileLevelID = ceil
	}
	lv, want := LevelLimits(a.ProfileLevelID), c.Limits()
	if want.MaxMBPS > lv.MaxMBPS {
		a.Limits.MaxMBPS = want.MaxMBPS
	}
	if want.MaxFS > lv.MaxFS {
		a.Limits.MaxFS = want.MaxFS
	}
	if want.MaxBR > lv.MaxBR {
		a.Limits.MaxBR = want.MaxBR
	}
	return a
}

// Fmtp gives the a=fmtp value of p.
func (p H264Params) Fmtp() string {
	var b strings.Builder
	b.WriteString("profile-level-id=" + p.ProfileLevelID.String())
	b.WriteString(";packetization-mode=" + strconv.Itoa(p.PacketizationMode))
	if p.LevelAsymmetry {
		b.WriteString(";level-asymmetry-allowed=1")
	}
	for _, kv := range []struct {
		k string
		v int
	}{{"max-mbps", p.Limits.MaxMBPS}, {"max-fs", p.Limits.MaxFS}, {"max-br", p.Limits.MaxBR}, {"max-fps", p.Limits.MaxFPS}} {
		if kv.v > 0 {
			b.WriteString(";" + kv.k + "=" + strconv.Itoa(kv.v))
		}
	}
	return b.String()
}
