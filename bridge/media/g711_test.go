package media

import (
	"fmt"
	"testing"
)

func TestG711KnownCodes(t *testing.T) {
	tests := []struct {
		name string
		got  int16
		want int16
	}{
		{"µ-law 0xff is zero", DecodeMuLaw(0xff), 0},
		{"µ-law 0x7f is zero", DecodeMuLaw(0x7f), 0},
		{"µ-law 0x00 is the most negative value", DecodeMuLaw(0x00), -32124},
		{"µ-law 0x80 is the most positive value", DecodeMuLaw(0x80), 32124},
		{"A-law 0xd5 is the smallest positive step", DecodeALaw(0xd5), 8},
		{"A-law 0x55 is the smallest negative step", DecodeALaw(0x55), -8},
		{"A-law 0xaa is the most positive value", DecodeALaw(0xaa), 32256},
		{"A-law 0x2a is the most negative value", DecodeALaw(0x2a), -32256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %d, want %d", tt.got, tt.want)
			}
		})
	}
	if EncodeMuLaw(0) != 0xff || EncodeALaw(0) != 0xd5 {
		t.Errorf("zero encodes to µ %#x, A %#x; want 0xff, 0xd5", EncodeMuLaw(0), EncodeALaw(0))
	}
}

// Every code word decodes to a value that encodes back to the same code word
// (µ-law's negative zero 0x7f aside), which is what the G.711 tables say.
func TestG711CodesRoundTrip(t *testing.T) {
	for c := range 256 {
		if b := EncodeMuLaw(DecodeMuLaw(byte(c))); b != byte(c) && c != 0x7f {
			t.Errorf("µ-law %#02x decodes to %d which encodes to %#02x", c, DecodeMuLaw(byte(c)), b)
		}
		if b := EncodeALaw(DecodeALaw(byte(c))); b != byte(c) {
			t.Errorf("A-law %#02x decodes to %d which encodes to %#02x", c, DecodeALaw(byte(c)), b)
		}
	}
}

// Companding is monotonic and its error stays within half a quantisation step.
func TestG711QuantisationError(t *testing.T) {
	for _, law := range []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
	}{{"µ-law", EncodeMuLaw, DecodeMuLaw}, {"A-law", EncodeALaw, DecodeALaw}} {
		t.Run(law.name, func(t *testing.T) {
			prev := int16(-32768)
			for v := -32768; v <= 32767; v++ {
				got := law.dec(law.enc(int16(v)))
				if got < prev {
					t.Fatalf("not monotonic at %d: %d after %d", v, got, prev)
				}
				prev = got
				mag := max(v, -v)
				// The step doubles per segment; its half is at most mag/16+16 (A-law) or mag/16+8+bias.
				if d := int(got) - v; d > mag/16+32 || d < -(mag/16+32) {
					t.Fatalf("%d decodes to %d: error %d too large", v, got, d)
				}
			}
		})
	}
}

func TestG711EncodeDecodeTone(t *testing.T) {
	for _, c := range []AudioCodec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			enc, err := NewEncoder(c)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := NewDecoder(c)
			if err != nil {
				t.Fatal(err)
			}
			const frames = 25
			in := make([]int16, frames*FrameSamples)
			tone(in, 1000, 8000, SampleRate, 0)
			out := make([]int16, 0, len(in))
			pay := make([]byte, MaxPayload)
			pcm := make([]int16, MaxFrameSamples)
			for f := range frames {
				n, err := enc.Encode(in[f*FrameSamples:(f+1)*FrameSamples], pay)
				if err != nil || n != 160 {
					t.Fatalf("encode: %d bytes, %v; want 160", n, err)
				}
				m, err := dec.Decode(pay[:n], pcm)
				if err != nil || m != FrameSamples {
					t.Fatalf("decode: %d samples, %v; want %d", m, err, FrameSamples)
				}
				out = append(out, pcm[:m]...)
			}
			// The two FIR filters delay the signal; align, then skip the warm-up.
			s, lag := bestLagSNR(t, in[FrameSamples:], out[FrameSamples:], 400)
			if s < 30 {
				t.Errorf("SNR of a 1 kHz tone through %s = %.1f dB (lag %d); want > 30 dB (G.711 gives about 38)", c, s, lag)
			}
		})
	}
}

func TestG711RejectsBadFrames(t *testing.T) {
	enc, _ := NewEncoder(PCMU)
	if _, err := enc.Encode(make([]int16, 100), make([]byte, MaxPayload)); err == nil {
		t.Error("a short PCM frame was encoded; want ErrFrameSize")
	}
	dec, _ := NewDecoder(PCMU)
	if _, err := dec.Decode(make([]byte, 5000), make([]int16, MaxFrameSamples)); err == nil {
		t.Error("a 5000-byte payload was decoded; want an error")
	}
}

// The encode tables must agree with the recommendation's arithmetic for
// every one of the 65 536 samples, or a listener hears a wrong code.
func TestG711EncodeTablesMatchArithmetic(t *testing.T) {
	tables := g711EncodeTables()
	for i := range 1 << 16 {
		s := int16(uint16(i))
		if got, want := tables.mu[i], EncodeMuLaw(s); got != want {
			t.Fatalf("µ-law table for %d is %#x, the arithmetic says %#x", s, got, want)
		}
		if got, want := tables.a[i], EncodeALaw(s); got != want {
			t.Fatalf("A-law table for %d is %#x, the arithmetic says %#x", s, got, want)
		}
	}
}

// The fast resampler runs the same filter as Resampler.Process: over a
// stream of frames, both directions agree within a rounding step.
func TestFastResamplerMatchesProcess(t *testing.T) {
	for _, rates := range [][2]int{{SampleRate, 8000}, {8000, SampleRate}} {
		ref, fast := NewResampler(rates[0], rates[1]), NewResampler(rates[0], rates[1])
		f := newFastResampler(fast)
		in := make([]int16, rates[0]/50)
		want, got := make([]int16, rates[1]/50), make([]int16, rates[1]/50)
		for frame := range 20 {
			tone(in, 300+float64(frame)*170, 12000, rates[0], frame*len(in))
			nw, ng := ref.Process(in, want), f.process(in, got)
			if nw != ng {
				t.Fatalf("%d→%d Hz frame %d: %d samples, Process gives %d", rates[0], rates[1], frame, ng, nw)
			}
			for i := range nw {
				if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
					t.Fatalf("%d→%d Hz frame %d sample %d: %d, Process gives %d", rates[0], rates[1], frame, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkG711Resample is one 20 ms frame through the G.711 encoder's
// 48→8 kHz decimator and the decoder's 8→48 kHz interpolator, the fast
// path next to Resampler.Process (the reference, same run).
func BenchmarkG711Resample(b *testing.B) {
	for _, rates := range [][2]int{{SampleRate, 8000}, {8000, SampleRate}} {
		in := make([]int16, rates[0]/50)
		out := make([]int16, rates[1]/50)
		tone(in, 440, 12000, rates[0], 0)
		name := fmt.Sprintf("%d-%d", rates[0], rates[1])
		b.Run(name+"/reference: Process", func(b *testing.B) {
			r := NewResampler(rates[0], rates[1])
			for b.Loop() {
				r.Process(in, out)
			}
		})
		b.Run(name+"/fast", func(b *testing.B) {
			f := newFastResampler(NewResampler(rates[0], rates[1]))
			for b.Loop() {
				f.process(in, out)
			}
		})
	}
}
