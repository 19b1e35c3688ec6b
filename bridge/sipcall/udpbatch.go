package sipcall

// outPacket is one datagram of a batched write, gathered from two parts
// (sendmmsg(2) takes an iovec array per message): head, then body. body
// is nil when head is the whole datagram; a video packet lent by a
// reader (video_batch.go) is our own RTP header in head and the source's
// payload, in the reader's buffer, in body.
type outPacket struct {
	head, body []byte
}
