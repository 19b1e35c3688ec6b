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
	untagged := map[flow]int{}  // RTP packets of exactly one plain PCMU frame
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
		if len(b) == 12+160 {
			untagged[k]++ // a plain PCMU packet: no SRTP authentication tag
		}
	}
	// A tone is audible when it stands out of the signal's own floor: the
	// mean level at frequencies nobody sends. Encrypted payloads decoded as
	// PCMU are loud white noise, as strong at the tones as anywhere else.
	floor := func(x []int16) float64 {
		sum := 0.0
		offTones := []float64{520, 570, 610, 670, 730, 790, 1010, 1130, 1270, 1390, 1510, 1630}
		for _, hz := range offTones {
			sum += toneLevel(x, hz, media.SampleRate)
		}
		return max(sum/float64(len(offTones)), 1)
	}
	var secureRatio, plainRatio float64
	securePackets := 0
	isSecure := func(port int) bool { return port >= securePorts && port < securePorts+100 }
	for f, x := range flows {
		fl := floor(x)
		t.Logf("RTP %d -> %d: %d samples, 440 Hz at %.0f, 880 Hz at %.0f, floor %.0f", f.src, f.dst, len(x),
			toneLevel(x, 440, media.SampleRate), toneLevel(x, 880, media.SampleRate), fl)
		if isSecure(f.src) || isSecure(f.dst) {
			if untagged[f] > 0 {
				t.Errorf("RTP %d -> %d: %d packets without an SRTP authentication tag on the SRTP leg", f.src, f.dst, untagged[f])
			}
			// Both ways of the SRTP leg: neither tone may stand out.
			securePackets += len(x) / media.FrameSamples
			secureRatio = max(secureRatio, toneLevel(x, 440, media.SampleRate)/fl, toneLevel(x, 880, media.SampleRate)/fl)
			continue
		}
		plainRatio = max(plainRatio, toneLevel(x, 880, media.SampleRate)/fl)
	}
	t.Logf("on the wire: the loudest tone on the SRTP leg at %.1f× its floor over %d packets; the plain caller's 880 Hz at %.1f× its floor",
		secureRatio, securePackets, plainRatio)
	if securePackets < 100 {
		t.Fatalf("captured %d RTP packets from the SRTP caller; want a few seconds' worth", securePackets)
	}
	if plainRatio < 20 {
		t.Fatalf("the plain caller's tone is not audible on the wire (%.1f× its floor): the eavesdropping check does not work", plainRatio)
	}
	// White noise's level at one frequency scatters around its floor; a
	// tone heard through stands 20× or more above it (the plain leg: ≈ 50×).
	if secureRatio > 8 {
		t.Errorf("a tone is audible on the SRTP leg's wire at %.1f× its floor (the plain tone at %.1f×)", secureRatio, plainRatio)
	}
}
