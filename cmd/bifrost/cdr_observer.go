package main

import (
	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/cdr"
)

// callObserver adapts the cdr writer to bridge.CallObserver: it converts the
// bridge's events into cdr's own (cdr never imports bridge) and submits them,
// which never blocks.
type callObserver struct{ w *cdr.Writer }

// newCallObserver returns the bridge.CallObserver that writes call records
// through w. Pass it as bridge.Deps.Observer.
func newCallObserver(w *cdr.Writer) bridge.CallObserver { return callObserver{w: w} }

func (o callObserver) ConferenceStarted(c bridge.ConferenceStart) {
	o.w.ConferenceStarted(cdr.ConferenceStart{ID: string(c.ID), OrganisationID: string(c.OrganisationID),
		RoomID: string(c.RoomID), RoomName: c.RoomName, StartedAt: c.StartedAt, HasPIN: c.HasPIN})
}

func (o callObserver) ConferenceEnded(c bridge.ConferenceEnd) {
	o.w.ConferenceEnded(cdr.ConferenceEnd{ID: string(c.ID), EndedAt: c.EndedAt,
		PeakParticipants: c.PeakParticipants, WasLocked: c.WasLocked})
}

func (o callObserver) LegStarted(l bridge.LegStart) {
	o.w.LegStarted(cdr.LegStart{ID: string(l.ID), ConferenceID: string(l.ConferenceID), OrganisationID: string(l.OrganisationID),
		RoomID: string(l.RoomID), Direction: string(l.Direction), Protocol: string(l.Protocol), Transport: l.Transport,
		DisplayName: l.DisplayName, RemoteURI: l.RemoteURI, RemoteAddr: l.RemoteAddr, UserAgent: l.UserAgent, CallID: l.CallID,
		Role: string(l.Role), AudioCodec: l.AudioCodec, VideoCodec: l.VideoCodec, Encryption: string(l.Encryption),
		StartedAt: l.StartedAt, AnsweredAt: l.AnsweredAt})
}

func (o callObserver) LegQuality(q bridge.LegQuality) {
	o.w.LegQuality(cdr.LegQuality{ID: string(q.ID), ConferenceID: string(q.ConferenceID), At: q.At, Quality: quality(q.Quality)})
}

func (o callObserver) LegEnded(l bridge.LegEnd) {
	o.w.LegEnded(cdr.LegEnd{ID: string(l.ID), ConferenceID: string(l.ConferenceID), EndedAt: l.EndedAt, Reason: string(l.Reason),
		ErrorCode: l.ErrorCode, AudioCodec: l.AudioCodec, VideoCodec: l.VideoCodec, Encryption: string(l.Encryption),
		Quality: quality(l.Quality)})
}

func quality(q bridge.Quality) cdr.Quality {
	return cdr.Quality{PacketsSent: q.PacketsSent, PacketsReceived: q.PacketsReceived, PacketsLost: q.PacketsLost,
		JitterAvg: q.JitterAvg, JitterMax: q.JitterMax, RTTAvg: q.RTTAvg, RTTMax: q.RTTMax,
		BitrateIn: q.BitrateIn, BitrateOut: q.BitrateOut}
}
