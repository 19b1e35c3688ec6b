package sipcall

import "github.com/bifrost-video/bifrost/bridge"

// roomVideoLimit is the bit rate, in kbit/s, that the senders of room may
// use: the configured ceiling, lowered to the lowest limit any other video
// call of the room received from its endpoint (TMMBR, RFC 5104 §4.2.1, or
// REMB). Without transcoding, every receiver gets what the speaker sends,
// so the most constrained receiver bounds the room; video legs tell their
// senders with TMMBR or REMB in each report.
func (s *Server) roomVideoLimit(room bridge.RoomID, except *call) int {
	s.callsMu.Lock()
	others := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		if c != except && c.room.ID == room && c.video != nil {
			others = append(others, c)
		}
	}
	s.callsMu.Unlock()
	kbps := s.cfg.VideoMax.Kbps
	for _, c := range others {
		if k := c.video.peerLimit(); k > 0 && k < kbps {
			kbps = k
		}
	}
	return kbps
}

// peerLimit is what the peer said it takes, in kbit/s; 0 if it said
// nothing.
func (s *videoSession) peerLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peerMaxKbps
}
