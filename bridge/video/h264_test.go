package video

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// payload reads a hex-encoded RTP payload from testdata/h264.
func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "h264", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectTellsKeyframesFromTheRest(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		want     PayloadInfo
		keyframe bool
		err      error
	}{
		{"a single SPS starts a keyframe", "single-sps.hex", PayloadInfo{SPS: true, FragmentStart: true, FragmentEnd: true}, true, nil},
		{"a STAP-A with SPS and PPS starts a keyframe", "stap-a-sps-pps.hex", PayloadInfo{SPS: true, PPS: true, FragmentStart: true, FragmentEnd: true}, true, nil},
		{"the first FU-A fragment of an IDR starts a keyframe", "fu-a-idr-start.hex", PayloadInfo{IDR: true, FragmentStart: true}, true, nil},
		{"a middle FU-A fragment of an IDR does not", "fu-a-idr-middle.hex", PayloadInfo{}, false, nil},
		{"the last FU-A fragment of an IDR does not", "fu-a-idr-end.hex", PayloadInfo{FragmentEnd: true}, false, nil},
		{"a non-IDR slice is no keyframe", "single-slice.hex", PayloadInfo{FragmentStart: true, FragmentEnd: true}, false, nil},
		{"a truncated STAP-A is an error", "stap-a-truncated.hex", PayloadInfo{}, false, ErrShortPayload},
		{"a STAP-B (interleaved mode) is refused", "stap-b-unsupported.hex", PayloadInfo{}, false, ErrUnsupportedNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(payload(t, tt.file))
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v; want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got != tt.want || got.Keyframe() != tt.keyframe {
				t.Errorf("Inspect = %+v (keyframe %v); want %+v (keyframe %v)", got, got.Keyframe(), tt.want, tt.keyframe)
			}
		})
	}
}

func TestInspectRefusesEmptyAndForbiddenPayloads(t *testing.T) {
	if _, err := Inspect(nil); !errors.Is(err, ErrShortPayload) {
		t.Errorf("empty payload: %v; want ErrShortPayload", err)
	}
	if _, err := Inspect([]byte{0xe5, 0}); !errors.Is(err, ErrForbiddenBit) {
		t.Errorf("forbidden bit: %v; want ErrForbiddenBit", err)
	}
	if _, err := Inspect([]byte{0x78, 0, 1, 0x85}); !errors.Is(err, ErrForbiddenBit) {
		t.Errorf("forbidden bit inside a STAP-A: %v; want ErrForbiddenBit", err)
	}
}

func TestParamSetsAreKeptAndResentAsOneSTAPA(t *testing.T) {
	var s ParamSets
	s.Observe(payload(t, "single-slice.hex"))
	if s.Complete() {
		t.Fatal("complete after a slice")
	}
	if got := s.AppendSTAPA(nil); len(got) != 0 {
		t.Fatalf("STAP-A %x without parameter sets; want none", got)
	}
	in := payload(t, "stap-a-sps-pps.hex")
	s.Observe(in)
	got := s.AppendSTAPA(nil)
	if hex.EncodeToString(got) != hex.EncodeToString(in) {
		t.Fatalf("STAP-A %x; want %x (the parameter sets as the sender sent them)", got, in)
	}
	info, err := Inspect(got)
	if err != nil || !info.SPS || !info.PPS {
		t.Fatalf("our STAP-A reads as %+v, %v", info, err)
	}
	s.Observe(payload(t, "single-sps.hex"))
	if !s.Complete() {
		t.Fatal("a new SPS lost the PPS")
	}
	allocs := testing.AllocsPerRun(100, func() {
		s.Observe(in)
		got = s.AppendSTAPA(got[:0])
	})
	if allocs != 0 {
		t.Errorf("%v allocations per payload in steady state; want 0", allocs)
	}
}
