package sipcall

import (
	"testing"
)

// srtpPair returns the layer of one leg and the layer of its peer, keyed
// for each other: what one protects the other unprotects.
func srtpPair(tb testing.TB, suite string) (ours, theirs *srtpCrypto) {
	tb.Helper()
	s, ok := suiteByName(suite)
	if !ok {
		tb.Fatalf("no suite %s", suite)
	}
	a, err := newMasterKey(s)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := newMasterKey(s)
	if err != nil {
		tb.Fatal(err)
	}
	ours, err = newSRTPCrypto(&sdesKeys{Suite: s, Remote: []sdesKey{{Material: a}}, Local: b}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	theirs, err = newSRTPCrypto(&sdesKeys{Suite: s, Remote: []sdesKey{{Material: b}}, Local: a}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ours, theirs
}

// TestSRTPHotPathDoesNotAllocate holds the no-allocation rule for the
// SRTP layer: protecting and unprotecting a packet into reused buffers.
func TestSRTPHotPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race: sync.Pool drops items on purpose")
	}
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		t.Run(suite, func(t *testing.T) {
			ours, theirs := srtpPair(t, suite)
			pkt := make([]byte, 12+160)
			enc := make([]byte, 0, maxPacket+srtpOverhead)
			dec := make([]byte, 0, maxPacket)
			seq := uint16(0)
			allocs := testing.AllocsPerRun(200, func() {
				putRTP(pkt, rtpHeader{PT: 9, Seq: seq, TS: uint32(seq) * 160, SSRC: 7})
				seq++
				out, err := ours.protectRTP(enc[:0], pkt)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := theirs.unprotectRTP(dec[:0], out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per protect+unprotect; want 0", allocs)
			}
		})
	}
}

// BenchmarkSRTP measures protecting and unprotecting one 20 ms G.722
// packet (172 bytes) with each suite, next to the plain layer's pass and
// a copy of the packet as the reference.
func BenchmarkSRTP(b *testing.B) {
	pkt := make([]byte, 12+160)
	dst := make([]byte, maxPacket+srtpOverhead)
	b.Run("reference: copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for i := 0; b.Loop(); i++ {
			putRTP(pkt, rtpHeader{PT: 9, Seq: uint16(i), TS: uint32(i) * 160, SSRC: 7})
			copy(dst, pkt)
		}
	})
	b.Run("plain layer", func(b *testing.B) {
		var c mediaCrypto = plainCrypto{}
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for i := 0; b.Loop(); i++ {
			putRTP(pkt, rtpHeader{PT: 9, Seq: uint16(i), TS: uint32(i) * 160, SSRC: 7})
			out, _ := c.protectRTP(dst[:0], pkt)
			_, _ = c.unprotectRTP(dst[:0], out)
		}
	})
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"} {
		b.Run(suite+" protect+unprotect", func(b *testing.B) {
			ours, theirs := srtpPair(b, suite)
			enc := make([]byte, 0, maxPacket+srtpOverhead)
			dec := make([]byte, 0, maxPacket)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for i := 0; b.Loop(); i++ {
				putRTP(pkt, rtpHeader{PT: 9, Seq: uint16(i), TS: uint32(i) * 160, SSRC: 7})
				out, err := ours.protectRTP(enc[:0], pkt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := theirs.unprotectRTP(dec[:0], out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
