package media

import (
	"fmt"
	"testing"
	"time"
)

// benchRoom builds a room of n ports of one codec, three of them talking, and
// pre-encodes what each sends, so the benchmark measures the mixer (jitter
// buffer, decode, selection, mix, encode, deliver), not the senders.
func benchRoom(b testing.TB, codec AudioCodec, n int) (*ManualClock, *Mixer, []*Port, [][][]byte) {
	b.Helper()
	return benchRoomWith(b, codec, n, MixerConfig{})
}

// benchRoomWith is benchRoom with a mixer configuration (its clock is set).
func benchRoomWith(b testing.TB, codec AudioCodec, n int, cfg MixerConfig) (*ManualClock, *Mixer, []*Port, [][][]byte) {
	b.Helper()
	clock := NewManualClock()
	cfg.Clock = clock
	m := NewMixer(cfg)
	b.Cleanup(m.Close)
	const frames = 50
	enc, err := NewEncoder(codec)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	silence := make([][]byte, frames)
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, MaxPayload)
	for f := range frames {
		// Comfort noise at -60 dBov rather than digital zero.
		for i := range pcm {
			pcm[i] = int16((i*7919+f*104729)%64) - 32
		}
		k, _ := enc.Encode(pcm, buf)
		silence[f] = append([]byte(nil), buf[:k]...)
	}
	ports := make([]*Port, n)
	payloads := make([][][]byte, n)
	for i := range n {
		p, err := m.AddPort(PortID(fmt.Sprint("p", i)), codec, func([]byte) {})
		if err != nil {
			b.Fatal(err)
		}
		ports[i] = p
		payloads[i] = silence
		if i < 3 {
			talk := make([][]byte, frames)
			for f := range frames {
				tone(pcm, 300+float64(i)*450, 8000, SampleRate, f*FrameSamples)
				k, _ := enc.Encode(pcm, buf)
				talk[f] = append([]byte(nil), buf[:k]...)
			}
			payloads[i] = talk
		}
	}
	return clock, m, ports, payloads
}

// BenchmarkMixerTick is the cost of one 20 ms tick of a room, including
// every port's Push of its packet. ports/core is how many participants one
// core sustains in real time at that room size.
func BenchmarkMixerTick(b *testing.B) {
	for _, codec := range []AudioCodec{PCMU, Opus} {
		for _, n := range []int{10, 50, 200} {
			b.Run(fmt.Sprintf("%s/%d", codec.Name, n), func(b *testing.B) {
				clock, _, ports, payloads := benchRoom(b, codec, n)
				step := func(t int) {
					for i, p := range ports {
						p.Push(uint16(t), uint32(t*codec.SamplesPerFrame()), payloads[i][t%len(payloads[i])])
					}
					clock.Tick()
				}
				for t := range 100 { // warm up: fill jitter buffers, settle speakers
					step(t)
				}
				b.ReportAllocs()
				b.ResetTimer()
				t := 100
				for b.Loop() {
					step(t)
					t++
				}
				reportPerCore(b, n)
			})
		}
	}
}

// BenchmarkNaiveMixTick is the reference: a naive bridge that decodes every
// port and encodes a personal mix for every port, each tick.
func BenchmarkNaiveMixTick(b *testing.B) {
	for _, codec := range []AudioCodec{PCMU, Opus} {
		for _, n := range []int{10, 50, 200} {
			b.Run(fmt.Sprintf("%s/%d", codec.Name, n), func(b *testing.B) {
				decs := make([]Decoder, n)
				encs := make([]Encoder, n)
				for i := range n {
					decs[i], _ = NewDecoder(codec)
					encs[i], _ = NewEncoder(codec)
				}
				b.Cleanup(func() {
					for i := range n {
						_ = decs[i].Close()
						_ = encs[i].Close()
					}
				})
				pcm := make([]int16, FrameSamples)
				tone(pcm, 440, 4000, SampleRate, 0)
				pkt := make([]byte, MaxPayload)
				k, _ := encs[0].Encode(pcm, pkt)
				pkt = pkt[:k]
				in := make([][]int16, n)
				for i := range in {
					in[i] = make([]int16, MaxFrameSamples)
				}
				sum := make([]int32, FrameSamples)
				mix := make([]int16, FrameSamples)
				out := make([]byte, MaxPayload)
				b.ReportAllocs()
				for b.Loop() {
					clear(sum)
					for i := range n {
						_, _ = decs[i].Decode(pkt, in[i])
						for j, s := range in[i][:FrameSamples] {
							sum[j] += int32(s)
						}
					}
					for i := range n {
						for j := range mix {
							mix[j] = int16(max(-32768, min(32767, sum[j]-int32(in[i][j]))))
						}
						_, _ = encs[i].Encode(mix, out)
					}
				}
				reportPerCore(b, n)
			})
		}
	}
}

func reportPerCore(b *testing.B, n int) {
	perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(n)*float64(FrameDuration.Nanoseconds())/perTick, "ports/core")
	b.ReportMetric(perTick/float64(time.Microsecond)/float64(n), "µs/port")
}
