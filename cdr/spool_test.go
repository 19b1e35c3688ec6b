package cdr

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeSpool(t testing.TB, payloads ...string) *spool {
	t.Helper()
	s, err := openSpool(filepath.Join(t.TempDir(), "x.spool"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	for _, p := range payloads {
		if err := s.appendFrame([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpool(t *testing.T) {
	t.Run("frames come back in order across reads", func(t *testing.T) {
		s := writeSpool(t, "a", "bb", "ccc")
		got, next, err := s.read(0, s.size, 2)
		if err != nil || len(got) != 2 || string(got[0]) != "a" || string(got[1]) != "bb" {
			t.Fatalf("first read %q %v", got, err)
		}
		got, next, err = s.read(next, s.size, 2)
		if err != nil || len(got) != 1 || string(got[0]) != "ccc" || next != s.size {
			t.Fatalf("second read %q next %d of %d, %v", got, next, s.size, err)
		}
	})
	t.Run("a frame cut short by a crash is ignored", func(t *testing.T) {
		s := writeSpool(t, "a", "bb")
		if err := s.f.Truncate(s.size - 1); err != nil {
			t.Fatal(err)
		}
		s.size--
		got, _, err := s.read(0, s.size, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("read %q %v, want the first frame only", got, err)
		}
	})
	t.Run("a flipped bit is reported with the frames before it", func(t *testing.T) {
		s := writeSpool(t, "a", "bb")
		if _, err := s.f.WriteAt([]byte{'x'}, s.size-1); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.read(0, s.size, 10)
		if !errors.Is(err, ErrCorruptSpool) || len(got) != 1 {
			t.Fatalf("read %q %v, want one frame and ErrCorruptSpool", got, err)
		}
	})
	t.Run("the whole image decodes like the reader", func(t *testing.T) {
		s := writeSpool(t, "a", "bb", "ccc")
		data, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeFrames(data)
		if err != nil || len(got) != 3 {
			t.Fatalf("decodeFrames %q %v", got, err)
		}
	})
}

// FuzzSpoolFrames feeds arbitrary spool images (a disk may hand back anything)
// to the frame decoder and the event decoder: errors, never a crash.
func FuzzSpoolFrames(f *testing.F) {
	cs, ls, lq, le, ce := call("00000000-0000-4000-8000-000000000001", t0, "alice")
	var payloads []string
	for _, e := range []Event{{Kind: KindConferenceStarted, ConferenceStart: &cs}, {Kind: KindLegStarted, LegStart: &ls},
		{Kind: KindLegQuality, LegQuality: &lq}, {Kind: KindLegEnded, LegEnd: &le}, {Kind: KindConferenceEnded, ConferenceEnd: &ce}} {
		b, _ := json.Marshal(e)
		payloads = append(payloads, string(b))
	}
	s := writeSpool(f, payloads...)
	data, err := os.ReadFile(s.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, _ := decodeFrames(data)
		for _, p := range frames {
			var e Event
			if json.Unmarshal(p, &e) == nil {
				_ = e.validate()
			}
		}
	})
}
