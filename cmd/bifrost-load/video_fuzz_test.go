package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// FuzzVideoReceive feeds a video receiver what the network may send on
// its socket: RTP with H.264 payloads (bridge/video's testdata and our own
// frames), RTCP and garbage. It must count or drop each datagram, never
// panic, and never count more switches than tagged packets it was given.
func FuzzVideoReceive(f *testing.F) {
	for _, p := range h264Seeds(f) {
		b := make([]byte, 12, 12+len(p))
		putRTPHeader(b, true, ptH264, 1, 0, 9)
		f.Add(append(b, p...))
	}
	var start [64]byte
	n := putSliceStart(start[:], true, 0, 1, frameTag{Source: 3, Frame: 9, Keyframe: true})
	own := make([]byte, 12, 12+n)
	putRTPHeader(own, true, ptH264, 2, 0, 9)
	f.Add(append(own, start[:n]...))
	var sei [40]byte
	stap := append(append([]byte(nil), own[:12]...), hdrSTAPA, 0, byte(putSEI(sei[:], frameTag{Source: 4, Keyframe: true})))
	f.Add(append(stap, sei[:stap[14]]...))
	pli, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}})
	f.Add(pli)
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xbe, 0xde, 0xff, 0xff})
	f.Add([]byte{0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xff})
	v, _ := videoPair(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := v.result()
		payload, ok := rtpPayload(b)
		if ok && len(payload) > len(b) {
			t.Fatalf("payload of %d bytes from a %d-byte packet", len(payload), len(b))
		}
		_, tagged := findTag(payload)
		v.handle(b, time.Now())
		after := v.result()
		if after.Switches > before.Switches+1 || (after.Switches > before.Switches && !tagged) {
			t.Fatalf("one datagram (tagged %v) moved the switches from %d to %d", tagged, before.Switches, after.Switches)
		}
	})
}

// FuzzParseVideoAnswer feeds the video answer parser SDP from real
// endpoints (../shared/testdata/sip): an answer or an error, never a
// panic, and an answer always has an address and a payload type.
func FuzzParseVideoAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "sip", "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		if _, body, ok := strings.Cut(s, "\r\n\r\n"); ok {
			s = body
		}
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := parseVideoAnswer(body)
		if err == nil && (!v.Remote.IsValid() || !v.RemoteRTCP.IsValid() || v.PT > 127) {
			t.Fatalf("answer %+v without error", v)
		}
	})
}
