package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// udpPacketsPerParticipantSecond is what one G.711 participant costs a
// bridge in datagrams: 50 received and 50 sent (20 ms packets).
const udpPacketsPerParticipantSecond = 50

// udpPacketSize is a G.711 RTP datagram: 12 bytes of header and 160 of
// payload.
const udpPacketSize = 172

// udpCeiling is the reference of mix_g711_capacity: the bare socket work
// of participant-seconds of G.711 — a send and a receive of a 172-byte
// datagram per packet, on one loopback socket sending to itself, one
// syscall each (what a bridge without batching does).
func udpCeiling(participantSeconds float64) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer conn.Close()
		_ = conn.SetReadBuffer(1 << 20)
		self := conn.LocalAddr().(*net.UDPAddr).AddrPort()
		units := max(1, participantSeconds*size)
		packets := int(units * udpPacketsPerParticipantSecond)
		out := make([]byte, udpPacketSize)
		in := make([]byte, 1500)
		const burst = 16 // stay well within the socket buffer
		for sent := 0; sent < packets; sent += burst {
			if err := ctx.Err(); err != nil {
				return benchtab.Sample{}, err
			}
			n := min(burst, packets-sent)
			for i := range n {
				out[2] = byte(sent + i)
				if _, err := conn.WriteToUDPAddrPort(out, self); err != nil {
					return benchtab.Sample{}, fmt.Errorf("udp send: %w", err)
				}
			}
			for range n {
				if _, _, err := conn.ReadFromUDPAddrPort(in); err != nil {
					return benchtab.Sample{}, fmt.Errorf("udp receive: %w", err)
				}
			}
		}
		return benchtab.Sample{Work: float64(packets) / udpPacketsPerParticipantSecond}, nil
	}
}
