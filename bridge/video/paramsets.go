package video

// maxParamSet bounds a kept SPS or PPS; real ones are tens of bytes.
const maxParamSet = 512

// ParamSets keeps the latest sequence and picture parameter sets a sender
// sent, so that they can be sent again ahead of an IDR to a receiver that
// joins the stream after the sender sent them (some endpoints send them only
// once, at the start of the call). After the first SPS and PPS it does not
// allocate.
type ParamSets struct {
	sps, pps []byte
}

// Observe records the parameter sets in one RTP payload. FU-A fragmented
// parameter sets (never seen in practice: they are small) are ignored.
func (s *ParamSets) Observe(payload []byte) {
	if len(payload) > 0 && payload[0]&0x1f == NALFUA {
		return
	}
	_ = NALUnits(payload, func(typ uint8, nal []byte) {
		switch {
		case len(nal) > maxParamSet:
		case typ == NALSPS:
			s.sps = append(s.sps[:0], nal...)
		case typ == NALPPS:
			s.pps = append(s.pps[:0], nal...)
		}
	})
}

// Complete reports whether both an SPS and a PPS were seen.
func (s *ParamSets) Complete() bool { return len(s.sps) > 0 && len(s.pps) > 0 }

// SPS and PPS return the kept parameter sets; they alias the ParamSets.
func (s *ParamSets) SPS() []byte { return s.sps }

// PPS returns the kept picture parameter set.
func (s *ParamSets) PPS() []byte { return s.pps }

// AppendSTAPA appends to dst one STAP-A payload (RFC 6184 §5.7.1) carrying
// the SPS and then the PPS, and returns it; it returns dst unchanged when
// either is missing. The STAP-A's NRI is the highest of its units'
// (RFC 6184 §5.7.1).
func (s *ParamSets) AppendSTAPA(dst []byte) []byte {
	if !s.Complete() {
		return dst
	}
	nri := max(s.sps[0]&0x60, s.pps[0]&0x60)
	dst = append(dst, nri|NALSTAPA)
	for _, nal := range [2][]byte{s.sps, s.pps} {
		dst = append(dst, byte(len(nal)>>8), byte(len(nal)))
		dst = append(dst, nal...)
	}
	return dst
}
