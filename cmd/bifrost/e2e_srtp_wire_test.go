package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// TestE2ESRTPLegCarriesNoAudibleRTP captures the loopback with tshark while
// an SRTP caller (440 Hz) and a plain one (880 Hz) talk, and decodes the
// PCMU payloads of every RTP flow as an eavesdropper would: the plain
// caller's tone is there, neither tone is on the SRTP leg, either way.
func TestE2ESRTPLegCarriesNoAudibleRTP(t *testing.T) {
	needCodecs(t, media.PCMU)
	tshark := needTool(t, "tshark")
	room := bridge.RoomInfo{ID: "room-wire", OrganisationID: "org", Name: "Wire", Alias: "4323"}
	e := startE2E(t, room)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "lo.pcap")
	// baresip's RTP ports are in 30000-38999 (secureBaresip, startBaresip).
	capture := exec.Command(tshark, "-i", "lo", "-f", "udp portrange 30000-38999", "-F", "pcap", "-w", pcap)
	capErr := &lockedBuffer{}
	capture.Stderr = capErr
	if err := capture.Start(); err != nil {
		t.Fatalf("tshark: %v", err)
	}
	captured := make(chan struct{})
	go func() { _ = capture.Wait(); close(captured) }()
	defer func() { _ = capture.Process.Kill(); <-captured }()
	eventually(t, 20*time.Second, "tshark to capture on lo", func() bool {
		select {
		case <-captured:
			t.Fatalf("tshark stopped: %s", capErr.String())
		default:
		}
		return strings.Contains(capErr.String(), "Capturing on")
	})

	secure, securePorts := secureBaresip(t, "secure", toneWAV(t, dir, 440, 60), "PCMU", e.uri(room.Alias), "", ";mediaenc=srtp-mand")
	plain := startBaresip(t, "plain", toneWAV(t, dir, 880, 60), "PCMU", e.uri(room.Alias))
	hearEachOther(t, e, room.ID, []*baresip{secure, plain}, []int{440, 880},
		[]bridge.Encryption{bridge.EncryptionSRTPSDES, bridge.EncryptionNone})
	_ = capture.Process.Signal(syscall.SIGINT)
	<-captured

	out, err := exec.Command(tshark, "-r", pcap, "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.payload").Output()
	if err != nil {
		t.Fatalf("tshark -r: %v", err)
	}
	type flow struct{ src, dst int }
	flows := map[flow][]int16{} // PCMU samples of RTP
	dec, err := media.NewDecoder(media.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	pcm := make([]int16, media.MaxFrameSamples)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			continue
		}
		src, err1 := strconv.Atoi(f[0])
		dst, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		payload := f[2]
		b, err := hex.DecodeString(strings.ReplaceAll(payload, ":", ""))
		if err != nil || len(b) < 12+160 || b[0]>>6 != 2 || b[1]&0x7f != 0 {
			continue // not RTP with PCMU (RTCP, other traffic)
		}
		n, err := dec.Decode(b[12:12+160], pcm)
		if err != nil {
			continue
		}
		k := flow{src, dst}
		flows[k] = append(flows[k], pcm[:n]...)
	}
	var secureLevel, plainLevel float64
	securePackets := 0
	isSecure := func(port int) bool { return port >= securePorts && port < securePorts+100 }
	for f, x := range flows {
		t.Logf("RTP %d -> %d: %d samples, 440 Hz at %.0f, 880 Hz at %.0f", f.src, f.dst, len(x),
			toneLevel(x, 440, media.SampleRate), toneLevel(x, 880, media.SampleRate))
		if isSecure(f.src) || isSecure(f.dst) {
			// Both ways of the SRTP leg: neither tone may be heard.
			securePackets += len(x) / media.FrameSamples
			secureLevel = max(secureLevel, toneLevel(x, 440, media.SampleRate), toneLevel(x, 880, media.SampleRate))
			continue
		}
		plainLevel = max(plainLevel, toneLevel(x, 880, media.SampleRate))
	}
	t.Logf("on the wire: the loudest tone on the SRTP leg at %.0f over %d packets; the plain caller's 880 Hz at %.0f", secureLevel, securePackets, plainLevel)
	if securePackets < 100 {
		t.Fatalf("captured %d RTP packets from the SRTP caller; want a few seconds' worth", securePackets)
	}
	if plainLevel < 300 {
		t.Fatalf("the plain caller's tone is not audible on the wire (%.0f): the eavesdropping check does not work", plainLevel)
	}
	if secureLevel > plainLevel/10 {
		t.Errorf("a tone is audible on the SRTP leg's wire at %.0f (the plain tone at %.0f)", secureLevel, plainLevel)
	}
}
