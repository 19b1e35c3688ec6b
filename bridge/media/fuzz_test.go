package media

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// oggPackets returns the packets of an Ogg stream (RFC 3533 §6): segments
// are joined until one shorter than 255 bytes ends a packet.
func oggPackets(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var pkts [][]byte
	var cur []byte
	for len(b) >= 27 {
		if !bytes.HasPrefix(b, []byte("OggS")) {
			t.Fatalf("not an Ogg page")
		}
		nseg := int(b[26])
		if len(b) < 27+nseg {
			t.Fatalf("truncated Ogg page")
		}
		segs := b[27 : 27+nseg]
		body := b[27+nseg:]
		for _, l := range segs {
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				pkts = append(pkts, cur)
				cur = nil
			}
		}
		b = body
	}
	return pkts
}

// opusSeeds are the audio packets FFmpeg's libopus wrote (OpusHead and
// OpusTags skipped).
func opusSeeds(t testing.TB) [][]byte {
	b, err := os.ReadFile("testdata/ffmpeg-440hz-200ms.opus")
	if err != nil {
		t.Fatal(err)
	}
	pkts := oggPackets(t, b)
	if len(pkts) < 3 {
		t.Fatalf("only %d Ogg packets", len(pkts))
	}
	return pkts[2:]
}

func g722Seed(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/ffmpeg-1khz-100ms.g722")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzG722Decode(f *testing.F) {
	seed := g722Seed(f)
	f.Add(seed[:160])
	f.Add(seed)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 160))
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, _ := NewDecoder(G722)
		pcm := make([]int16, MaxFrameSamples)
		n, err := d.Decode(payload, pcm)
		if err == nil && n != 6*len(payload) {
			t.Errorf("%d bytes decoded to %d samples; want %d", len(payload), n, 6*len(payload))
		}
		if n, err := d.Conceal(pcm); err != nil || n != FrameSamples {
			t.Errorf("conceal: %d, %v", n, err)
		}
	})
}

func FuzzOpusDecode(f *testing.F) {
	for _, p := range opusSeeds(f) {
		f.Add(p)
	}
	f.Add([]byte{0x03, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := NewDecoder(Opus)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		pcm := make([]int16, MaxFrameSamples)
		if n, err := d.Decode(payload, pcm); err == nil && (n <= 0 || n > MaxFrameSamples) {
			t.Errorf("decoded %d samples", n)
		}
		if _, err := d.(FECDecoder).DecodeFEC(payload, pcm); err != nil && len(payload) > 0 {
			_ = err // a corrupt packet is an error, never a crash
		}
		if n, err := d.Conceal(pcm); err != nil || n != FrameSamples {
			t.Errorf("conceal: %d, %v", n, err)
		}
	})
}

// FuzzPortPush feeds a port arbitrary RTP payloads with arbitrary sequence
// numbers and timestamps, ticking the mixer in between. The input is a codec
// selector byte, then records of seq (2 bytes), ts (4), length (2) and payload.
func FuzzPortPush(f *testing.F) {
	record := func(seq uint16, ts uint32, p []byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, seq)
		b = binary.BigEndian.AppendUint32(b, ts)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		return append(b, p...)
	}
	g := g722Seed(f)
	var s []byte
	for i := range 5 {
		s = append(s, record(uint16(100+i), uint32(160*i), g[160*i:160*(i+1)])...)
	}
	f.Add(append([]byte{2}, s...))
	s = nil
	for i, p := range opusSeeds(f) {
		s = append(s, record(uint16(65533+i), uint32(960*i), p)...) // wraps
	}
	f.Add(append([]byte{3}, s...))
	f.Add(append([]byte{0}, record(7, 0, bytes.Repeat([]byte{0x55}, 160))...))
	f.Add(append([]byte{1}, record(7, 0, make([]byte, 3000))...))
	f.Fuzz(pushRecords)
}

func pushRecords(t *testing.T, data []byte) {
	codecs := []AudioCodec{PCMU, PCMA, G722, Opus}
	{
		if len(data) == 0 {
			return
		}
		c := codecs[int(data[0])%len(codecs)]
		data = data[1:]
		clock := NewManualClock()
		m := NewMixer(MixerConfig{Clock: clock})
		defer m.Close()
		heard := 0
		p, err := m.AddPort("fuzzed", c, func([]byte) {})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.AddPort("listener", PCMU, func(b []byte) {
			if len(b) != 160 {
				t.Errorf("listener got %d bytes; want 160", len(b))
			}
			heard++
		}); err != nil {
			t.Fatal(err)
		}
		ticks := 0
		// At most 64 records per input, enough to wrap the jitter buffer's
		// ring: the mutator grows inputs, and a tick with 120 ms payloads costs
		// a millisecond (much more under coverage instrumentation).
		for len(data) >= 8 && ticks < 64 {
			seq := binary.BigEndian.Uint16(data)
			ts := binary.BigEndian.Uint32(data[2:])
			n := min(int(binary.BigEndian.Uint16(data[6:])), len(data)-8)
			p.Push(seq, ts, data[8:8+n])
			data = data[8+n:]
			clock.Tick()
			ticks++
		}
		clock.TickN(3)
		if heard != ticks+3 {
			t.Errorf("the listener heard %d frames in %d ticks; want one per tick", heard, ticks+3)
		}
	}
}

// FuzzJitterBuffer drives the jitter buffer alone with arbitrary pushes and
// pops (each op: a byte whose low bit chooses pop or push, then for a push a
// 2-byte sequence number) and checks its invariants: the count matches the
// slots in use, frames come out in increasing sequence order between resets,
// a frame is never played twice, and the storage never exceeds the ring.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 3, 0, 2, 1, 1, 1})
	f.Add([]byte{0, 0xff, 0xfe, 0, 0xff, 0xff, 0, 0, 0, 1, 1, 1, 1})
	f.Add([]byte{0, 0, 10, 0, 0x80, 0, 1, 0, 0, 9, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		j := newJitterBuffer(JitterConfig{MinDepth: 1, MaxDepth: 4})
		var last uint16
		played := false
		resets := j.stats.Resets
		for len(ops) > 0 {
			op := ops[0]
			ops = ops[1:]
			if op&1 == 0 && len(ops) >= 2 {
				seq := binary.BigEndian.Uint16(ops)
				ops = ops[2:]
				j.push(seq, 0, []byte{byte(seq), byte(seq >> 8)})
			} else {
				res, p, _ := j.pop()
				if res == popFrame {
					seq := uint16(p[0]) | uint16(p[1])<<8
					if j.stats.Resets != resets {
						resets, played = j.stats.Resets, false
					}
					if played && seqDiff(seq, last) <= 0 {
						t.Fatalf("played %d after %d", seq, last)
					}
					last, played = seq, true
				}
			}
			used := 0
			for i := range j.slots {
				if j.slots[i].used {
					used++
				}
			}
			if used != j.count || j.count < 0 || j.count > jitterSlots {
				t.Fatalf("count %d but %d slots in use", j.count, used)
			}
			if n := j.buffers(); n > jitterSlots {
				t.Fatalf("%d payload buffers; want at most %d", n, jitterSlots)
			}
		}
	})
}
