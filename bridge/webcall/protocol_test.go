package webcall

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		in   string
		want Message
	}{
		{`{"type":"join","name":"  Ada Lovelace ","pin":"1234"}`, Message{Type: TypeJoin, Name: "Ada Lovelace", PIN: "1234"}},
		{`{"type":"join","name":"Zoë 山田"}`, Message{Type: TypeJoin, Name: "Zoë 山田"}},
		{`{"type":"answer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}`, Message{Type: TypeAnswer, SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}},
		{`{"type":"mute","audio":true}`, Message{Type: TypeMute, Audio: true}},
		{`{"type":"leave"}`, Message{Type: TypeLeave}},
		{`{"type":"candidate","candidate":""}`, Message{Type: TypeCandidate}},
	}
	for _, tt := range tests {
		got, err := Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("Decode(%s): %v", tt.in, err)
			continue
		}
		if got.Type != tt.want.Type || got.Name != tt.want.Name || got.PIN != tt.want.PIN || got.SDP != tt.want.SDP || got.Audio != tt.want.Audio {
			t.Errorf("Decode(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	m, err := Decode([]byte(`{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host","sdp_mid":"0","sdp_mline_index":0}`))
	if err != nil || *m.SDPMid != "0" || *m.SDPMLineIndex != 0 {
		t.Fatalf("candidate: %+v, %v", m, err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		in, why string
	}{
		{``, "invalid JSON"},
		{`[]`, "wrong type"},
		{`{"type":"join"}`, "needs a name"},
		{`{"type":"join","name":"   "}`, "needs a name"},
		{`{"type":"join","name":"a\u0007b"}`, "control character"},
		{`{"type":"join","name":"` + strings.Repeat("x", MaxNameLength+1) + `"}`, "limit is 64"},
		{`{"type":"join","name":"Ada","pin":"12a4"}`, "digits only"},
		{`{"type":"join","name":"Ada","pin":"` + strings.Repeat("1", 17) + `"}`, "longer than"},
		{`{"type":"join","name":"Ada","sdp":"v=0"}`, "join does not take sdp"},
		{`{"type":"answer","sdp":"hello"}`, "v=0"},
		{`{"type":"candidate","candidate":"foo"}`, "begin with"},
		{`{"type":"candidate","candidate":"candidate:1 1 udp 1 192.0.2.1 1 typ host"}`, "sdp_mid"},
		{`{"type":"leave","audio":true}`, "leave does not take audio"},
		{`{"type":"shout"}`, "unknown type"},
		{`{}`, "no type"},
		{`{"type":"leave","extra":1}`, "unknown field"},
		{`{"type":"leave"} {"type":"leave"}`, "more than one"},
		{"{\"type\":\"join\",\"name\":\"\xff\"}", "UTF-8"},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		if !errors.Is(err, ErrBadMessage) {
			t.Errorf("Decode(%q) = %v, want ErrBadMessage", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.why) {
			t.Errorf("Decode(%q) = %v, want it to say %q", tt.in, err, tt.why)
		}
	}
	if _, err := Decode(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized message: %v, want ErrTooLarge", err)
	}
}

// TestDecodeErrorHidesPIN: a bad message's error never repeats the PIN.
func TestDecodeErrorHidesPIN(t *testing.T) {
	_, err := Decode([]byte(`{"type":"join","name":"","pin":"987654"}`))
	if err == nil || strings.Contains(err.Error(), "987654") {
		t.Fatalf("error %v carries the PIN", err)
	}
}

func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		switch m.Type {
		case TypeJoin:
			if m.Name == "" || len(m.PIN) > maxPINLength {
				t.Fatalf("accepted join %+v", m)
			}
		case TypeAnswer, TypeCandidate, TypeMute, TypeLeave:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}
