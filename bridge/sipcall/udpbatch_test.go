package sipcall

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// listenLocal is a UDP socket on addr, closed with the test.
func listenLocal(t *testing.T, network, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("no %s socket on %s: %v", network, addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestUDPBatchMovesSeveralDatagramsEachWayAndNamesTheirSource(t *testing.T) {
	for _, tc := range []struct{ name, network, bind, to string }{
		{"an IPv4 socket", "udp4", "127.0.0.1:0", "127.0.0.1"},
		{"a dual-stack socket sending to IPv4", "udp", "0.0.0.0:0", "127.0.0.1"},
		{"an IPv6 socket", "udp6", "[::1]:0", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := listenLocal(t, tc.network, tc.bind)
			peerNet, peerBind := "udp4", "127.0.0.1:0"
			if tc.to == "::1" {
				peerNet, peerBind = "udp6", "[::1]:0"
			}
			b := listenLocal(t, peerNet, peerBind)
			ba, err := newUDPBatch(a, 8)
			if err != nil {
				t.Fatal(err)
			}
			bb, err := newUDPBatch(b, 8)
			if err != nil {
				t.Fatal(err)
			}
			to := netip.AddrPortFrom(netip.MustParseAddr(tc.to), uint16(b.LocalAddr().(*net.UDPAddr).Port))
			// Whole datagrams and datagrams of two parts (a head and a
			// body: our RTP header and a lent payload), alternating.
			var pkts [][]byte
			var out []outPacket
			for i := range 5 {
				p := bytes.Repeat([]byte{byte(i + 1)}, 100+i)
				p[0] = 0xf0 | byte(i)
				pkts = append(pkts, p)
				if i%2 == 0 {
					out = append(out, outPacket{head: p})
				} else {
					out = append(out, outPacket{head: p[:12:12], body: p[12:]})
				}
			}
			if n, err := ba.write(out, to); n != 5 || err != nil {
				t.Fatalf("write = %d, %v; want 5 sent", n, err)
			}
			bufs := make([][]byte, 8)
			for i := range bufs {
				bufs[i] = make([]byte, maxPacket)
			}
			sizes := make([]int, 8)
			froms := make([]netip.AddrPort, 8)
			var got [][]byte
			_ = b.SetReadDeadline(time.Now().Add(waitTimeout))
			for len(got) < 5 {
				n, err := bb.read(bufs, sizes, froms)
				if err != nil {
					t.Fatalf("read after %d datagrams: %v", len(got), err)
				}
				for i := range n {
					if froms[i].Port() != uint16(a.LocalAddr().(*net.UDPAddr).Port) || froms[i].Addr().Unmap().String() != tc.to {
						t.Errorf("datagram from %v; want from the sender's port on %s", froms[i], tc.to)
					}
					got = append(got, bytes.Clone(bufs[i][:sizes[i]]))
				}
			}
			for i := range pkts {
				if !bytes.Equal(got[i], pkts[i]) {
					t.Errorf("datagram %d is %d bytes of %d; want %d bytes of %d", i, len(got[i]), got[i][0], len(pkts[i]), pkts[i][0])
				}
			}
		})
	}
}

func TestUDPBatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race")
	}
	a := listenLocal(t, "udp4", "127.0.0.1:0")
	b := listenLocal(t, "udp4", "127.0.0.1:0")
	ba, _ := newUDPBatch(a, 4)
	bb, _ := newUDPBatch(b, 4)
	to := b.LocalAddr().(*net.UDPAddr).AddrPort()
	pkts := []outPacket{{head: make([]byte, 1000)}, {head: make([]byte, 12), body: make([]byte, 1000)}}
	bufs := [][]byte{make([]byte, maxPacket), make([]byte, maxPacket), make([]byte, maxPacket), make([]byte, maxPacket)}
	sizes := make([]int, 4)
	froms := make([]netip.AddrPort, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ba.write(pkts, to); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < 2; {
			n, err := bb.read(bufs, sizes, froms)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per write and read of a batch; want 0", allocs)
	}
}
