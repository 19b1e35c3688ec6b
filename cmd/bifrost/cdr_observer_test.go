package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestCallObserverWritesRecords drives a call through the bridge.CallObserver
// serve hands to the bridge and checks every field arrives in cdr_legs.
func TestCallObserverWritesRecords(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var org string
	if err := db.Get(&org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Privacy.InactiveAdminsAfter = 0
	e := newEnv(cfg, slog.New(slog.DiscardHandler), io.Discard)
	rt, err := e.startCDR(db)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.close()
	obs := rt.observer()

	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	conf, leg := bridge.ConferenceID("3f8a2b9e-0000-4000-8000-000000000001"), bridge.ParticipantID("3f8a2b9e-0000-4000-8000-000000000002")
	obs.ConferenceStarted(bridge.ConferenceStart{ID: conf, OrganisationID: bridge.OrganisationID(org), RoomName: "Board", StartedAt: at, HasPIN: true})
	obs.LegStarted(bridge.LegStart{ID: leg, ConferenceID: conf, OrganisationID: bridge.OrganisationID(org), Direction: bridge.DirectionIn,
		Protocol: bridge.ProtocolSIP, Transport: "tcp", DisplayName: "Alice", RemoteURI: "sip:alice@example.com",
		RemoteAddr: netip.MustParseAddrPort("[2001:db8::7]:5061"), UserAgent: "Poly/6.2", CallID: "c1@example.com",
		Role: bridge.RoleHost, AudioCodec: "opus/48000/2", Encryption: bridge.EncryptionSRTPSDES, StartedAt: at, AnsweredAt: at.Add(2 * time.Second)})
	obs.LegQuality(bridge.LegQuality{ID: leg, ConferenceID: conf, At: at.Add(time.Minute), Quality: bridge.Quality{PacketsSent: 10}})
	obs.LegEnded(bridge.LegEnd{ID: leg, ConferenceID: conf, EndedAt: at.Add(time.Hour), Reason: bridge.EndKicked, VideoCodec: "H264/90000",
		Quality: bridge.Quality{PacketsSent: 180000, PacketsReceived: 179000, PacketsLost: 1000, RTTMax: 120 * time.Millisecond, BitrateIn: 1_000_000}})
	obs.ConferenceEnded(bridge.ConferenceEnd{ID: conf, EndedAt: at.Add(time.Hour), PeakParticipants: 1, WasLocked: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rt.writer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary string `db:"summary"`
	}
	if err := db.Get(&got, `SELECT concat_ws('|', l.direction, l.protocol, l.transport, l.display_name, l.remote_uri, host(l.remote_ip), l.remote_port,
		l.user_agent, l.call_id, l.role, l.answered_at - l.started_at, l.end_reason, l.duration, l.audio_codec, l.video_codec, l.encryption,
		l.packets_lost, l.rtt_max_ms, l.bitrate_in, c.room_name, c.had_pin, c.was_locked, c.peak_participants) AS summary
		FROM cdr_legs l JOIN cdr_conferences c ON c.id = l.conference_id WHERE l.id = $1`, string(leg)); err != nil {
		t.Fatal(err)
	}
	want := "in|sip|tcp|Alice|sip:alice@example.com|2001:db8::7|5061|Poly/6.2|c1@example.com|host|00:00:02|kicked|00:59:58|opus/48000/2|H264/90000|srtp-sdes|1000|120|1000000|Board|t|t|1"
	if got.Summary != want {
		t.Errorf("stored\n %s\nwant\n %s", got.Summary, want)
	}
}

// TestLoginThrottleIsErased checks the web admin's sign-in counts, kept per
// e-mail, are part of a subject access and erasure request.
func TestLoginThrottleIsErased(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var org string
	if err := db.Get(&org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`INSERT INTO login_throttle (kind, subject, failures, window_start) VALUES ('account', 'alice@example.com', 3, now()), ('account', 'bob@example.com', 1, now())`)
	p := &cdr.Privacy{DB: db, Sources: cdrHooks().Sources}
	s, _ := cdr.ParseSubject("Alice@Example.com")
	exp, err := p.Export(context.Background(), org, s)
	if err != nil {
		t.Fatal(err)
	}
	if rows, _ := exp.Other["login_throttle"].([]json.RawMessage); len(rows) != 1 {
		t.Errorf("export: %v, want Alice's throttle row", exp.Other)
	}
	counts, err := p.Erase(context.Background(), org, s)
	if err != nil || counts["login_throttle"] != 1 {
		t.Errorf("erase: %v %v", counts, err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM login_throttle`); err != nil || n != 1 {
		t.Errorf("%d throttle rows left, want Bob's 1", n)
	}
}
