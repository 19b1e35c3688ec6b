package media

import (
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"
)

// processCPU is the process's user and system CPU time (getrusage).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOpusComplexity is the knee of MixerConfig.OpusComplexity: the
// CPU of one 20 ms encode of a three-voice mix at each complexity, and its
// ratio to complexity 5 (the package default) encoding the same frames,
// alternating in the same run. Reported as CPU time, not wall time.
func BenchmarkOpusComplexity(b *testing.B) {
	const frames = 50
	mix := make([]int16, frames*FrameSamples)
	for i := range mix {
		x := float64(i)
		mix[i] = int16(4000*math.Sin(2*math.Pi*300*x/SampleRate)*(1+math.Sin(x/3000))/2 +
			3000*math.Sin(2*math.Pi*750*x/SampleRate) +
			3000*math.Sin(2*math.Pi*1200*x/SampleRate)*math.Abs(math.Sin(x/5000)))
	}
	for c := 1; c <= 10; c++ {
		b.Run(fmt.Sprint("complexity=", c), func(b *testing.B) {
			enc, err := NewEncoderWith(Opus, EncoderOptions{OpusComplexity: c})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			ref, err := NewEncoderWith(Opus, EncoderOptions{OpusComplexity: 5})
			if err != nil {
				b.Fatal(err)
			}
			defer ref.Close()
			out := make([]byte, MaxPayload)
			var subject, reference time.Duration
			f := 0
			for b.Loop() {
				pcm := mix[f*FrameSamples : (f+1)*FrameSamples]
				f = (f + 1) % frames
				t0 := processCPU()
				_, _ = enc.Encode(pcm, out)
				t1 := processCPU()
				_, _ = ref.Encode(pcm, out)
				t2 := processCPU()
				subject += t1 - t0
				reference += t2 - t1
			}
			b.ReportMetric(float64(subject.Microseconds())/float64(b.N), "cpu-µs/frame")
			if reference > 0 {
				b.ReportMetric(float64(subject)/float64(reference), "x_complexity5")
			}
		})
	}
}
