package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// loopSeconds is the length of the synthetic speech every call sends, in a
// loop, each call from its own starting frame.
const loopSeconds = 8

// audioLoop is loopSeconds of synthetic speech encoded once with one codec,
// shared read-only by every call: senders copy a frame's payload into their
// packet and encode nothing, so the load generator's CPU goes to sending,
// not to libopus.
type audioLoop struct {
	codec  media.AudioCodec
	frames [][]byte // 20 ms payloads, slices of one backing array
}

// newAudioLoop synthesises the speech and encodes it with the bridge's own
// encoder for codec (bridge/media).
func newAudioLoop(codec media.AudioCodec) (*audioLoop, error) {
	enc, err := media.NewEncoder(codec)
	if err != nil {
		return nil, fmt.Errorf("encoder for %s: %w", codec, err)
	}
	defer enc.Close()
	return encodeLoop(codec, enc, speechLoop())
}

// encodeLoop encodes pcm, 20 ms at a time, with enc.
func encodeLoop(codec media.AudioCodec, enc media.Encoder, pcm []int16) (*audioLoop, error) {
	n := len(pcm) / media.FrameSamples
	backing := make([]byte, 0, n*160)
	offs := make([]int, n+1)
	buf := make([]byte, media.MaxPayload)
	for f := range n {
		k, err := enc.Encode(pcm[f*media.FrameSamples:(f+1)*media.FrameSamples], buf)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", codec, err)
		}
		backing = append(backing, buf[:k]...)
		offs[f+1] = len(backing)
	}
	l := &audioLoop{codec: codec, frames: make([][]byte, n)}
	for f := range n {
		l.frames[f] = backing[offs[f]:offs[f+1]:offs[f+1]]
	}
	return l, nil
}

// speechLoop is the loop's PCM, synthesised once per process.
var speechLoop = sync.OnceValue(func() []int16 { return syntheticSpeech(loopSeconds * media.SampleRate) })

// talkSpurts are the loop's stretches of talking, in seconds; between them
// the speaker pauses (background noise only), as a person in a meeting
// does, so the bridge's speaker detection and hangover are exercised.
var talkSpurts = [][2]float64{{0.1, 1.7}, {2.3, 4.6}, {5.1, 7.5}}

// syntheticSpeech returns n samples of 48 kHz speech-like sound: a voiced
// source (harmonics of a pitch gliding between about 95 and 155 Hz) shaped
// by two moving formants, cut into syllables of about 250 ms within talk
// spurts, over a -60 dBov noise floor. It is deterministic.
func syntheticSpeech(n int) []int16 { return synthesise(n, talking) }

// synthesise is syntheticSpeech with the talk spurts given by talks.
func synthesise(n int, talks func(t float64) bool) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, n)
	const sr = float64(media.SampleRate)
	phase := 0.0
	for i := range out {
		t := float64(i) / sr
		v := 0.0
		if talks(t) {
			f0 := 125 + 30*math.Sin(2*math.Pi*0.7*t)
			phase += 2 * math.Pi * f0 / sr
			f1 := 550 + 250*math.Sin(2*math.Pi*1.3*t)
			f2 := 1500 + 600*math.Sin(2*math.Pi*0.9*t+1)
			// Syllables: a raised sine at 4 Hz, sharpened.
			env := math.Pow(math.Max(0, math.Sin(math.Pi*math.Mod(t*4, 1))), 0.7)
			for k := 1; float64(k)*f0 < 4000; k++ {
				f := float64(k) * f0
				a := resonance(f, f1, 90) + 0.5*resonance(f, f2, 140)
				v += a / float64(k) * math.Sin(float64(k)*phase)
			}
			v *= env * 9000
		}
		v += float64(rng.IntN(64) - 32) // the noise floor
		out[i] = int16(math.Max(-32768, math.Min(32767, v)))
	}
	return out
}

func talking(t float64) bool {
	for _, s := range talkSpurts {
		if t >= s[0] && t < s[1] {
			return true
		}
	}
	return false
}

// resonance is the gain of a formant at frequency center with bandwidth
// bw, at frequency f.
func resonance(f, center, bw float64) float64 {
	d := (f - center) / bw
	return 1 / (1 + d*d)
}
