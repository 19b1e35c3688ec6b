package media

import (
	"testing"
)

// encodeRun encodes frames of 20 ms with enc; gen fills frame f.
func encodeRun(t testing.TB, enc Encoder, frames int, gen func(pcm []int16, f int)) [][]byte {
	t.Helper()
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, MaxPayload)
	var pkts [][]byte
	for f := range frames {
		gen(pcm, f)
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}

// lowNoise is noise at about -65 dBov, the background of a quiet room.
func lowNoise(pcm []int16, f int) {
	for i := range pcm {
		pcm[i] = int16((i*7919+f*104729)%64) - 32
	}
}

// The VAD flag read from the packet is the one libopus's DTX acts on: with
// DTX on, the encoder stops sending (packets of one byte) only after ten
// frames it marked inactive, and never while it marks frames active.
func TestInspectOpusAgreesWithLibopusDTX(t *testing.T) {
	enc, err := NewEncoderWith(Opus, EncoderOptions{OpusDTX: true})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	speech := func(f int) bool { return f >= 50 && f < 100 }
	pkts := encodeRun(t, enc, 150, func(pcm []int16, f int) {
		if speech(f) {
			tone(pcm, 500+float64(f%7)*50, 6000, SampleRate, f*FrameSamples)
		} else {
			lowNoise(pcm, f)
		}
	})
	inactiveRun, dtxSeen := 0, 0
	for f, p := range pkts {
		n, act := inspectOpus(p)
		if n != FrameSamples {
			t.Fatalf("frame %d: %d samples; want %d", f, n, FrameSamples)
		}
		switch {
		case len(p) <= 2:
			dtxSeen++
			if act != opusInactive {
				t.Errorf("frame %d: a DTX packet reads as %d; want inactive", f, act)
			}
			if inactiveRun < 10 && dtxSeen == 1 {
				t.Errorf("frame %d: libopus went DTX after %d inactive frames", f, inactiveRun)
			}
		case act == opusInactive:
			inactiveRun++
			if speech(f) {
				t.Errorf("frame %d: speech marked inactive", f)
			}
		case act == opusVoice:
			inactiveRun = 0
			if !speech(f) && f > 5 && (f < 100 || f > 105) { // the encoder's VAD has a hangover
				t.Errorf("frame %d: steady low noise marked voice", f)
			}
		default:
			t.Errorf("frame %d: SILK/hybrid packet (TOC %#x) reads as unknown", f, p[0])
		}
	}
	if dtxSeen == 0 {
		t.Error("libopus never went DTX in 2 s of low noise: the test proves nothing")
	}
}

// FFmpeg's libopus marks its tone voice-active: the reader works on
// another program's packets, not only ours.
func TestInspectOpusFFmpegPackets(t *testing.T) {
	for i, p := range opusSeeds(t) {
		n, act := inspectOpus(p)
		if n != FrameSamples || act != opusVoice {
			t.Errorf("packet %d (%d bytes, TOC %#x): %d samples, activity %d; want %d, voice", i, len(p), p[0], n, act, FrameSamples)
		}
	}
}

// Packets of several frames (RFC 6716 §3.2.2–3.2.5) are voice when any
// frame is, and their duration is the sum of their frames'.
func TestInspectOpusFraming(t *testing.T) {
	enc, err := NewEncoder(Opus)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	quiet := encodeRun(t, enc, 30, lowNoise)[29]
	loud := encodeRun(t, enc, 3, func(pcm []int16, f int) { tone(pcm, 700, 8000, SampleRate, f*FrameSamples) })[2]
	if _, a := inspectOpus(quiet); a != opusInactive {
		t.Fatalf("quiet frame reads %d; want inactive", a)
	}
	if _, a := inspectOpus(loud); a != opusVoice {
		t.Fatalf("loud frame reads %d; want voice", a)
	}
	toc := quiet[0] &^ 3
	q, l := quiet[1:], loud[1:]
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	len1 := func(n int) []byte {
		if n < 252 {
			return []byte{byte(n)}
		}
		return []byte{byte(252 + (n-252)%4), byte((n - 252) / 4)}
	}
	pad := func(f []byte, to int) []byte { return append(append([]byte(nil), f...), make([]byte, to-len(f))...) }
	big := max(len(q), len(l))
	tests := []struct {
		name    string
		pkt     []byte
		samples int
		want    opusActivity
	}{
		{"code 1: two equal quiet frames", cat([]byte{toc | 1}, pad(q, big), pad(q, big)), 2 * FrameSamples, opusInactive},
		{"code 1: a quiet then a loud frame", cat([]byte{toc | 1}, pad(q, big), pad(l, big)), 2 * FrameSamples, opusVoice},
		{"code 2: loud then quiet", cat([]byte{toc | 2}, len1(len(l)), l, q), 2 * FrameSamples, opusVoice},
		{"code 2: quiet then quiet", cat([]byte{toc | 2}, len1(len(q)), q, q), 2 * FrameSamples, opusInactive},
		{"code 3 VBR: three frames, the last loud", cat([]byte{toc | 3, 0x80 | 3}, len1(len(q)), len1(len(q)), q, q, l), 3 * FrameSamples, opusVoice},
		{"code 3 CBR with padding: quiet", cat([]byte{toc | 3, 0x40 | 2, 3}, pad(q, big), pad(q, big), []byte{0, 0, 0}), 2 * FrameSamples, opusInactive},
		{"code 3: more than 120 ms", cat([]byte{toc | 3, 7}, q), 0, opusUnknown},
		{"code 1: odd length", cat([]byte{toc | 1}, q, []byte{0})[:len(q)+1+(len(q)+1)%2], 0, opusUnknown},
		{"code 2: first frame longer than the packet", []byte{toc | 2, 200, 1, 2}, 0, opusUnknown},
		{"a TOC byte alone: DTX", []byte{toc}, FrameSamples, opusInactive},
		{"CELT-only: no VAD flag", cat([]byte{31 << 3}, l), FrameSamples, opusUnknown},
		{"empty", nil, 0, opusUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, a := inspectOpus(tt.pkt)
			if n != tt.samples || a != tt.want {
				t.Errorf("got %d samples, activity %d; want %d, %d", n, a, tt.samples, tt.want)
			}
		})
	}
}

// FuzzInspectOpus: any payload gives a duration within what a decode
// buffer holds, and a packet libopus decodes is never longer than read.
func FuzzInspectOpus(f *testing.F) {
	for _, p := range opusSeeds(f) {
		f.Add(p)
	}
	f.Add([]byte{0x78})
	f.Add([]byte{0x7b, 0xc3, 0x02, 0x05, 0x01, 0x02})
	f.Add([]byte{0x7a, 0xfc, 0xff, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		n, act := inspectOpus(payload)
		if n < 0 || n > MaxFrameSamples {
			t.Fatalf("%d samples", n)
		}
		if n == 0 && act != opusUnknown {
			t.Fatalf("no duration but activity %d", act)
		}
		d, err := newOpusDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		pcm := make([]int16, MaxFrameSamples)
		if m, err := d.Decode(payload, pcm); err == nil && n > 0 && m != n && len(payload) > 1 {
			t.Errorf("libopus decoded %d samples; inspectOpus read %d", m, n)
		}
	})
}
