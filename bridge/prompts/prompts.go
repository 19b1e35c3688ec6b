package prompts

import (
	"embed"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// FrameSamples is the number of samples in one 20 ms frame at 48 kHz, the
// bridge's internal audio format.
const FrameSamples = 960

// Name names one prompt.
type Name string

// The prompts of the PIN IVR.
const (
	EnterPIN     Name = "enter_pin"      // "Please enter the conference PIN, followed by the pound key."
	EnterHostPIN Name = "enter_host_pin" // "…host PIN, followed by the pound key. Guests, press the pound key."
	WrongPIN     Name = "wrong_pin"      // "That PIN is not valid. Please try again."
	Joining      Name = "joining"        // "You are joining the meeting."
	WaitForHost  Name = "wait_for_host"  // "Please wait. The meeting will begin when the host joins."
	Goodbye      Name = "goodbye"        // "Goodbye."
)

// All lists every prompt.
var All = []Name{EnterPIN, EnterHostPIN, WrongPIN, Joining, WaitForHost, Goodbye}

//go:embed *.s16
var files embed.FS

// sourceRate is the sample rate of the committed files.
const sourceRate = 16000

var cache sync.Map // Name → *entry

type entry struct {
	once sync.Once
	pcm  []int16
	err  error
}

// PCM48 returns the prompt as 48 kHz mono int16 samples, padded with silence to
// a whole number of 20 ms frames. The slice is shared: callers must not modify
// it. The first call for a prompt decodes and upsamples it; later calls are free.
func PCM48(n Name) ([]int16, error) {
	v, _ := cache.LoadOrStore(n, &entry{})
	e := v.(*entry)
	e.once.Do(func() { e.pcm, e.err = load(n) })
	return e.pcm, e.err
}

func load(n Name) ([]int16, error) {
	raw, err := files.ReadFile(string(n) + ".s16")
	if err != nil {
		return nil, fmt.Errorf("prompts: %q: %w", n, err)
	}
	if len(raw)%2 != 0 {
		return nil, fmt.Errorf("prompts: %q: odd length %d, want 16-bit samples", n, len(raw))
	}
	in := make([]int16, len(raw)/2)
	for i := range in {
		in[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	out := upsample3(in)
	if r := len(out) % FrameSamples; r != 0 {
		out = append(out, make([]int16, FrameSamples-r)...)
	}
	return out, nil
}

// Upsampling 16 kHz → 48 kHz: insert two zeros after each sample and low-pass at
// 7.6 kHz with a Blackman-windowed sinc, as a polyphase filter (each output phase
// uses every third tap).
const (
	upFactor = 3
	upTaps   = 16 * upFactor // 16 input samples per output sample
)

var upFilter = func() [upTaps]float64 {
	var h [upTaps]float64
	const fc = 7600.0 / (sourceRate * upFactor) // cutoff, cycles per output sample
	mid := float64(upTaps-1) / 2
	sum := 0.0
	for i := range h {
		x := float64(i) - mid
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(upTaps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(upTaps-1))
		h[i] = s * w
		sum += h[i]
	}
	for i := range h {
		h[i] *= upFactor / sum // unity gain after zero stuffing
	}
	return h
}()

// upsample3 returns in at three times its sample rate.
func upsample3(in []int16) []int16 {
	out := make([]int16, len(in)*upFactor)
	for n := range out {
		// out[n] = Σ_k h[k]·z[n−k], where z is in zero-stuffed: z[m] = in[m/3] when m%3 == 0.
		acc := 0.0
		for k := n % upFactor; k < upTaps; k += upFactor {
			m := n - k
			if m < 0 {
				break
			}
			acc += upFilter[k] * float64(in[m/upFactor])
		}
		out[n] = clamp16(acc)
	}
	// The filter delays by (upTaps−1)/2 samples; keep the timing honest by
	// leaving it: prompts start with espeak-ng's own leading silence anyway.
	return out
}

func clamp16(v float64) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}
