package media

import (
	"errors"
	"testing"
)

func TestOpusEncodeDecodeTone(t *testing.T) {
	enc, err := NewEncoder(Opus)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(Opus)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	const frames = 50
	in := make([]int16, frames*FrameSamples)
	tone(in, 440, 8000, SampleRate, 0)
	var out []int16
	pay := make([]byte, MaxPayload)
	pcm := make([]int16, MaxFrameSamples)
	for f := range frames {
		n, err := enc.Encode(in[f*FrameSamples:(f+1)*FrameSamples], pay)
		if err != nil || n == 0 || n > 200 {
			t.Fatalf("encode: %d bytes, %v; want 1–200 at 32 kbit/s", n, err)
		}
		m, err := dec.Decode(pay[:n], pcm)
		if err != nil || m != FrameSamples {
			t.Fatalf("decode: %d, %v", m, err)
		}
		out = append(out, pcm[:m]...)
	}
	// Opus is a perceptual codec: compare the tone's level, not the waveform.
	steady := out[len(out)/2:]
	if g := power(steady, 440, SampleRate) - power(in[len(in)/2:], 440, SampleRate); g < -2 || g > 2 {
		t.Errorf("the 440 Hz tone comes through at %.1f dB; want within ±2 dB", g)
	}
}

// A lost packet is rebuilt from the next packet's in-band FEC, and FEC beats
// plain concealment on a steady tone.
func TestOpusFECAndConcealment(t *testing.T) {
	enc, _ := NewEncoderWith(Opus, EncoderOptions{OpusPacketLossPerc: 20})
	defer enc.Close()
	var pkts [][]byte
	in := make([]int16, FrameSamples)
	buf := make([]byte, MaxPayload)
	for f := range 30 {
		tone(in, 440, 8000, SampleRate, f*FrameSamples)
		n, err := enc.Encode(in, buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	lost := 20
	want := make([]int16, FrameSamples)
	tone(want, 440, 8000, SampleRate, lost*FrameSamples)

	rebuild := func(useFEC bool) float64 {
		d, _ := NewDecoder(Opus)
		defer d.Close()
		pcm := make([]int16, MaxFrameSamples)
		for _, p := range pkts[:lost] {
			if _, err := d.Decode(p, pcm); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		var err error
		if useFEC {
			n, err = d.(FECDecoder).DecodeFEC(pkts[lost+1], pcm)
		} else {
			n, err = d.Conceal(pcm)
		}
		if err != nil || n != FrameSamples {
			t.Fatalf("recovering: %d, %v", n, err)
		}
		return power(pcm[:n], 440, SampleRate) - power(want, 440, SampleRate)
	}
	if g := rebuild(true); g < -3 {
		t.Errorf("the frame rebuilt from FEC carries the tone at %.1f dB; want within 3 dB", g)
	}
	if g := rebuild(false); g < -20 {
		t.Errorf("concealment carries the tone at %.1f dB; want a continuation above -20 dB", g)
	}
}

func TestOpusRejectsGarbage(t *testing.T) {
	d, _ := NewDecoder(Opus)
	defer d.Close()
	pcm := make([]int16, MaxFrameSamples)
	// TOC code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5).
	if _, err := d.Decode([]byte{0x03, 0x00}, pcm); !errors.Is(err, ErrCorruptPayload) {
		t.Errorf("decoding an invalid packet: %v; want ErrCorruptPayload", err)
	}
	if err := d.Close(); err != nil {
		t.Error(err)
	}
	if _, err := d.Decode([]byte{0x08}, pcm); !errors.Is(err, ErrClosed) {
		t.Errorf("decoding after Close: %v; want ErrClosed", err)
	}
}
