package cdr

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	os.Exit(pgtest.Main(m))
}

// t0 is the tests' "now": a fixed instant, so times compare exactly.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newOrg(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `INSERT INTO organisations (name) VALUES ($1) RETURNING id`, name); err != nil {
		t.Fatal(err)
	}
	return id
}

var uuidN atomic.Int64

// uuid returns a fresh, readable UUID: 00000000-0000-4000-8000-<n>.
func uuid(tag int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", tag, uuidN.Add(1))
}

// call returns the events of one conference with one leg from start to end.
func call(org string, at time.Time, name string) (cs ConferenceStart, ls LegStart, lq LegQuality, le LegEnd, ce ConferenceEnd) {
	conf, leg := uuid(1), uuid(2)
	cs = ConferenceStart{ID: conf, OrganisationID: org, RoomName: "Main", StartedAt: at, HasPIN: true}
	ls = LegStart{ID: leg, ConferenceID: conf, OrganisationID: org, Direction: "in", Protocol: "sip", Transport: "udp",
		DisplayName: name, RemoteURI: "sip:" + name + "@example.com", RemoteAddr: netip.MustParseAddrPort("192.0.2.10:5062"),
		UserAgent: "Cisco/CE 11.5", CallID: "abc@192.0.2.10", Role: "guest", AudioCodec: "PCMU/8000", Encryption: "none",
		StartedAt: at, AnsweredAt: at.Add(time.Second)}
	lq = LegQuality{ID: leg, ConferenceID: conf, At: at.Add(time.Minute), Quality: Quality{PacketsSent: 3000, PacketsReceived: 2990, PacketsLost: 10}}
	le = LegEnd{ID: leg, ConferenceID: conf, EndedAt: at.Add(10 * time.Minute), Reason: "hung_up", VideoCodec: "H264/90000",
		Quality: Quality{PacketsSent: 30000, PacketsReceived: 29900, PacketsLost: 100, JitterAvg: 3 * time.Millisecond, JitterMax: 20 * time.Millisecond,
			RTTAvg: 40 * time.Millisecond, RTTMax: 90 * time.Millisecond, BitrateIn: 64000, BitrateOut: 64000}}
	ce = ConferenceEnd{ID: conf, EndedAt: at.Add(10 * time.Minute), PeakParticipants: 1}
	return
}

func submitCall(w *Writer, cs ConferenceStart, ls LegStart, lq LegQuality, le LegEnd, ce ConferenceEnd) {
	w.ConferenceStarted(cs)
	w.LegStarted(ls)
	w.LegQuality(lq)
	w.LegEnded(le)
	w.ConferenceEnded(ce)
}

func openWriter(t testing.TB, db *sqlx.DB, cfg Config) *Writer {
	t.Helper()
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 20 * time.Millisecond
	}
	if cfg.Node == "" {
		cfg.Node = "test"
	}
	if cfg.Logger == nil && os.Getenv("CDR_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w, err := Open(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func flush(t testing.TB, w *Writer, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("waiting for %s to be stored: %v", what, err)
	}
}

// waitFor polls cond until it holds, failing t with what after a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(t testing.TB, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
