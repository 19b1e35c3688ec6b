package main

import (
	"context"
	"fmt"
	"math"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// talkers is how many participants talk at once in the mixing rows.
const talkers = 3

// roomAudio is what a room's participants send, pre-encoded so the
// harness measures the mixer, not the senders: a loop of 50 frames of a
// distinct tone per talker and of -60 dBov noise for the rest.
type roomAudio struct {
	talk    [talkers][][]byte
	silence [][]byte
}

func newRoomAudio(codec media.AudioCodec) (*roomAudio, error) {
	enc, err := media.NewEncoder(codec)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	const frames = 50
	a := &roomAudio{}
	pcm := make([]int16, media.FrameSamples)
	buf := make([]byte, media.MaxPayload)
	encode := func() ([]byte, error) {
		n, err := enc.Encode(pcm, buf)
		return append([]byte(nil), buf[:n]...), err
	}
	for f := range frames {
		for i := range pcm {
			pcm[i] = int16((i*7919+f*104729)%64) - 32
		}
		p, err := encode()
		if err != nil {
			return nil, err
		}
		a.silence = append(a.silence, p)
	}
	for t := range talkers {
		hz := 300 + 450*float64(t)
		for f := range frames {
			for i := range pcm {
				n := float64(f*media.FrameSamples + i)
				pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*n/media.SampleRate))
			}
			p, err := encode()
			if err != nil {
				return nil, err
			}
			a.talk[t] = append(a.talk[t], p)
		}
	}
	return a, nil
}

func (a *roomAudio) frame(port, f int) []byte {
	if port < talkers {
		return a.talk[port][f%len(a.talk[port])]
	}
	return a.silence[f%len(a.silence)]
}

// mixerRoom is the subject of the mixing rows: bridge/media's Mixer with n
// ports of codec, stepped by a manual clock, each port pushing its packet
// every tick. Work is ticks.
func mixerRoom(codec media.AudioCodec, n, ticks int) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		audio, err := newRoomAudio(codec)
		if err != nil {
			return benchtab.Sample{}, err
		}
		clock := media.NewManualClock()
		m := media.NewMixer(media.MixerConfig{Clock: clock})
		defer m.Close()
		ports := make([]*media.Port, n)
		for i := range ports {
			if ports[i], err = m.AddPort(media.PortID(fmt.Sprint("p", i)), codec, func([]byte) {}); err != nil {
				return benchtab.Sample{}, err
			}
		}
		spf := codec.SamplesPerFrame()
		step := func(t int) {
			for i, p := range ports {
				p.Push(uint16(t), uint32(t*spf), audio.frame(i, t))
			}
			clock.Tick()
		}
		for t := range 100 { // fill the jitter buffers, settle the speakers
			step(t)
		}
		total := max(10, int(float64(ticks)*size))
		return timed(func() error {
			for t := 100; t < 100+total; t++ {
				if t%50 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				step(t)
			}
			return nil
		}, float64(total))
	}
}

// codecWork is a reference of the mixing rows: per tick, decode decodes
// (one per participant) and encode encodes of 20 ms of codec with libopus
// or the G.711/G.722 code of bridge/media, summing as a mixer would, the
// encoders at the package's default options. Work is ticks.
func codecWork(codec media.AudioCodec, decodes, encodes, ticks int) benchtab.Harness {
	return codecWorkWith(codec, media.EncoderOptions{}, decodes, encodes, ticks)
}

// mixerEncoder is the encoder options of the mixer's own encoders at its
// defaults: what the work a mixer needs is measured with.
var mixerEncoder = media.EncoderOptions{OpusComplexity: media.DefaultMixerOpusComplexity}

// codecWorkWith is codecWork with encoders of the given options. The
// decoders decode the talkers first: decodes = talkers is the decoding a
// mixer needs when the others' packets are marked silent.
func codecWorkWith(codec media.AudioCodec, opts media.EncoderOptions, decodes, encodes, ticks int) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		audio, err := newRoomAudio(codec)
		if err != nil {
			return benchtab.Sample{}, err
		}
		decs := make([]media.Decoder, decodes)
		encs := make([]media.Encoder, encodes)
		defer func() {
			for _, d := range decs {
				if d != nil {
					_ = d.Close()
				}
			}
			for _, e := range encs {
				if e != nil {
					_ = e.Close()
				}
			}
		}()
		for i := range decs {
			if decs[i], err = media.NewDecoder(codec); err != nil {
				return benchtab.Sample{}, err
			}
		}
		for i := range encs {
			if encs[i], err = media.NewEncoderWith(codec, opts); err != nil {
				return benchtab.Sample{}, err
			}
		}
		pcm := make([]int16, media.MaxFrameSamples)
		sum := make([]int32, media.FrameSamples)
		mix := make([]int16, media.FrameSamples)
		out := make([]byte, media.MaxPayload)
		total := max(10, int(float64(ticks)*size))
		return timed(func() error {
			for t := range total {
				if t%50 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				clear(sum)
				for i, d := range decs {
					k, err := d.Decode(audio.frame(i, t), pcm)
					if err != nil {
						return err
					}
					for j := range min(k, len(sum)) {
						sum[j] += int32(pcm[j])
					}
				}
				for j, v := range sum {
					mix[j] = int16(max(-32768, min(32767, v)))
				}
				for _, e := range encs {
					if _, err := e.Encode(mix, out); err != nil {
						return err
					}
				}
			}
			return nil
		}, float64(total))
	}
}

// timed runs f and returns its work and the process CPU time it took,
// leaving the harness's set-up out.
func timed(f func() error, work float64) (benchtab.Sample, error) {
	before := benchtab.ProcessCPU()
	if err := f(); err != nil {
		return benchtab.Sample{}, err
	}
	return benchtab.Sample{Work: work, CPU: max(benchtab.ProcessCPU()-before, 1)}, nil
}

// perRoomSecond turns a harness's work from ticks into room-seconds (50
// ticks), so capacity reads as rooms per core.
func perRoomSecond(h benchtab.Harness) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		s, err := h(ctx, size)
		s.Work /= 50
		return s, err
	}
}

// mixOpusRows are the mix_opus and mix_opus_vs_naive rows. The mixer runs
// at its defaults: the silence gate on and its encoders at
// DefaultMixerOpusComplexity. mix_opus's reference is the codec work the
// mixer needs: a decode per talker (the others' packets are marked
// voice-inactive by their senders, and no mixer needs to decode those) and
// one encode per distinct mix (one per talker and one shared), at the
// mixer's complexity. mix_opus_vs_naive's reference is a bridge with one
// encoder per participant at the package's default encoder options; the
// "same complexity" variant gives that naive bridge the mixer's
// complexity, so the gain of mixing alone is in the table too. N=200 runs
// fewer ticks: its naive reference costs 400 codec operations a tick.
func mixOpusRows() []benchtab.Metric {
	var rows []benchtab.Metric
	for _, n := range []int{10, 50, 200} {
		ticks := 500
		if n >= 200 {
			ticks = 100
		}
		rows = append(rows, benchtab.Metric{
			Name: "mix_opus", Variant: "N=" + itoa(n), Kind: benchtab.Cost, Unit: "tick",
			Subject:   mixerRoom(media.Opus, n, ticks),
			Reference: codecWorkWith(media.Opus, mixerEncoder, talkers, talkers+1, ticks),
			Target:    benchtab.Target{AtMost: true, Value: 1.3},
		}, benchtab.Metric{
			Name: "mix_opus_vs_naive", Variant: "N=" + itoa(n), Kind: benchtab.Capacity, Unit: "rooms",
			Subject:   perRoomSecond(mixerRoom(media.Opus, n, ticks)),
			Reference: perRoomSecond(codecWork(media.Opus, n, n, ticks)),
			Target:    benchtab.Target{Value: 3, Also: "participants per core vs one encoder per participant"},
		})
		if n == 10 {
			rows = append(rows, benchtab.Metric{
				Name: "mix_opus_vs_naive", Variant: "N=10 same complexity", Kind: benchtab.Capacity, Unit: "rooms",
				Subject:   perRoomSecond(mixerRoom(media.Opus, n, ticks)),
				Reference: perRoomSecond(codecWorkWith(media.Opus, mixerEncoder, n, n, ticks)),
				Target:    benchtab.Target{Value: 3, Also: "naive bridge at the mixer's Opus complexity"},
			})
		}
	}
	return rows
}
