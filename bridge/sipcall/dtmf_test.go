package sipcall

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           rune
		err            error
	}{
		{"Cisco dtmf-relay with Signal and Duration", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', nil},
		{"dtmf-relay with spaces and a star", "application/dtmf-relay", "Signal= *\nDuration= 250\n", '*', nil},
		{"dtmf-relay hash", "application/dtmf-relay", "Signal=#\r\n", '#', nil},
		{"Polycom application/dtmf digit", "application/dtmf", "7", '7', nil},
		{"application/dtmf event code 11 is #", "application/dtmf", "11\r\n", '#', nil},
		{"dtmf-relay without Signal is malformed", "application/dtmf-relay", "Duration=160", 0, ErrBadDTMF},
		{"a letter is no digit we take", "application/dtmf-relay", "Signal=A", 0, ErrBadDTMF},
		{"an empty body is malformed", "application/dtmf", "", 0, ErrBadDTMF},
		{"another body type is unsupported", "text/plain", "5", 0, ErrUnsupportedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDTMFInfo(tt.ct, []byte(tt.body))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("parseDTMFInfo = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseRTP(t *testing.T) {
	base := []byte{0x80, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34}
	tests := []struct {
		name    string
		pkt     []byte
		payload string
		wantErr bool
	}{
		{"a plain header", append(append([]byte{}, base...), 'a', 'b'), "ab", false},
		{"CSRCs are skipped", append([]byte{0x82, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 1, 1, 1, 1, 2, 2, 2, 2}, 'x'), "x", false},
		{"an extension is skipped", append([]byte{0x90, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 0xbe, 0xde, 0, 1, 9, 9, 9, 9}, 'y'), "y", false},
		{"padding is stripped", append(append([]byte{}, 0xa0, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34), 'z', 0, 0, 3), "z", false},
		{"version 1 is refused", append([]byte{0x40}, base[1:]...), "", true},
		{"a short packet is refused", base[:11], "", true},
		{"padding longer than the packet is refused", []byte{0xa0, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 200}, "", true},
		{"an extension past the end is refused", []byte{0x90, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 0xbe, 0xde, 0, 9}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p, err := parseRTP(tt.pkt)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (string(p) != tt.payload || h.Seq != 1 || h.TS != 160 || h.SSRC != 0x1234 || h.PT != 9) {
				t.Errorf("got %+v %q, want seq 1 ts 160 PT 9 payload %q", h, p, tt.payload)
			}
		})
	}
}

// FuzzDTMF feeds INFO bodies and telephone-event payloads to their
// parsers: a digit or an error, never a panic.
func FuzzDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("11"))
	f.Add("application/dtmf", []byte{5, 0x8a, 0x01, 0xe0})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if r, err := parseDTMFInfo(ct, body); err == nil && !isDigit(r) {
			t.Fatalf("INFO gave %q, not a digit", r)
		}
		var d dtmfDecoder
		if r, ok, _ := d.decode(1, body); ok && !isDigit(r) {
			t.Fatalf("RFC 4733 gave %q, not a digit", r)
		}
	})
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r == '*' || r == '#' }

// FuzzMediaInput feeds arbitrary datagrams to a leg's RTP and RTCP input,
// as a hostile peer could: nothing crashes, and the leg keeps counting.
func FuzzMediaInput(f *testing.F) {
	f.Add([]byte{0x80, 0x09, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 1, 2}, false)
	f.Add([]byte{0x80, 101, 0, 2, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 5, 0x8a, 1, 0xe0}, false)
	f.Add([]byte{0x81, 0xc9, 0, 7, 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{0x80, 0xc8, 0, 6, 0, 0, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, true)
	var r recorder
	s := newTestSession(f, mediaConfig{Latch: true}, g722Media(netip.MustParseAddrPort("127.0.0.1:9")), &r)
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	f.Fuzz(func(t *testing.T, data []byte, rtcpPort bool) {
		if rtcpPort || isRTCP(data) {
			s.handleRTCP(data, from, !rtcpPort)
			return
		}
		s.handleRTP(data, from)
		_ = s.quality()
	})
}
