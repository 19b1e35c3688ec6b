package sipcall

import "github.com/emiago/sipgo/sip"

// maxUDPMessage is the largest SIP message we send over UDP: what one IP
// datagram carries (65535 less the IPv4 and UDP headers), in fragments if
// the path needs them.
const maxUDPMessage = 65507

// sipgo refuses every UDP message above 1300 bytes (its UDPMTUSize less
// 200), reading RFC 3261 §18.1.1 as a limit; but that rule asks for a
// request to move to TCP, which sipgo does not do, and a response goes
// back over the transport its request came on whatever its size
// (§18.2.2). A 200 OK carrying our late offer, audio and H.264 video with
// SDES keys on both, is about 1.5 kB: refused, the call would die
// unanswered. We let the IP layer fragment instead, as other SIP stacks
// do. Set once, before any server runs.
func init() {
	sip.UDPMTUSize = maxUDPMessage + 200
}
