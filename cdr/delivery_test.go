package cdr

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// receiver is an event sink that misbehaves: it fails every third request,
// answers some slowly (within the client's timeout), and holds some past the
// timeout before failing them. It accepts an event only if it is the next in
// sequence (as a receiver that must not see events out of order would),
// acknowledges a repeat of one it has (delivery is at least once; sequence
// numbers make it exactly once for the receiver), and records what it accepted.
type receiver struct {
	mu       sync.Mutex
	requests int
	accepted []SinkMessage
	outOfSeq int
	repeats  int
	badAuth  int
	wantAuth string
	slow     time.Duration
	overTime time.Duration
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	n := r.requests
	if req.Header.Get("Authorization") != r.wantAuth {
		r.badAuth++
		r.mu.Unlock()
		http.Error(w, "who are you", http.StatusUnauthorized)
		return
	}
	r.mu.Unlock()
	switch {
	case n%3 == 0:
		http.Error(w, "busy", http.StatusInternalServerError)
		return
	case n%7 == 0:
		time.Sleep(r.overTime) // the client gives up first
		http.Error(w, "too late", http.StatusServiceUnavailable)
		return
	case n%5 == 0:
		time.Sleep(r.slow)
	}
	var m SinkMessage
	if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Seq <= int64(len(r.accepted)) {
		// A retry of an event this receiver took but whose answer the
		// sender never saw (it timed out): acknowledged again, kept once.
		r.repeats++
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if want := int64(len(r.accepted) + 1); m.Seq != want {
		r.outOfSeq++
		http.Error(w, "out of sequence", http.StatusConflict)
		return
	}
	r.accepted = append(r.accepted, m)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) acceptedN() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

func TestSinkDeliveryInOrderDespiteAFlakyReceiver(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	rcv := &receiver{wantAuth: "Bearer s3cret", slow: 20 * time.Millisecond, overTime: 700 * time.Millisecond}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()
	if _, err := CreateSink(ctx, db, testSinkKey, Sink{OrganisationID: org, Name: "siem", URL: srv.URL, Auth: "bearer", Secret: "s3cret", TLSVerify: true}); err != nil {
		t.Fatal(err)
	}
	// A dead receiver of the same organisation must not hold up the live one.
	if _, err := CreateSink(ctx, db, testSinkKey, Sink{OrganisationID: org, Name: "dead", URL: "http://127.0.0.1:1/", TLSVerify: true}); err != nil {
		t.Fatal(err)
	}
	d := &Delivery{DB: db, Key: testSinkKey, PollInterval: 10 * time.Millisecond, Timeout: 500 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	d.Start()
	defer d.Close()

	w := openWriter(t, db, Config{})
	const calls = 10
	for i := range calls {
		cs, ls, lq, le, ce := call(org, t0.Add(time.Duration(i)*time.Minute), "alice")
		submitCall(w, cs, ls, lq, le, ce)
	}
	flush(t, w, "the calls")
	const events = 4 * calls
	waitFor(t, "every event at the receiver", func() bool { return rcv.acceptedN() >= events })
	d.Close()

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.accepted) != events || rcv.outOfSeq != 0 || rcv.badAuth != 0 {
		t.Errorf("accepted %d events (want %d), %d out of sequence, %d without the token", len(rcv.accepted), events, rcv.outOfSeq, rcv.badAuth)
	}
	if rcv.requests <= events {
		t.Errorf("%d requests for %d events: the receiver's failures were not exercised", rcv.requests, events)
	}
	want := []string{"conference_started", "leg_started", "leg_ended", "conference_ended"}
	for i, m := range rcv.accepted {
		if m.Event != want[i%4] {
			t.Errorf("event %d is %s, want %s", i+1, m.Event, want[i%4])
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_sink_queue q JOIN cdr_sinks s ON s.id = q.sink_id WHERE s.name = 'siem'`); n != 0 {
		t.Errorf("%d events still queued for the live sink", n)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_sink_queue q JOIN cdr_sinks s ON s.id = q.sink_id WHERE s.name = 'dead' AND q.attempts > 0`); n != 1 {
		t.Errorf("the dead sink's head event was tried %d times, want it retrying (1 row with attempts)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'cdr.sink_create'`); n != 2 {
		t.Errorf("%d sink creations audited, want 2", n)
	}
	// The receiver checked the bearer token on every request; the database
	// holds it only sealed (migration 0007).
	if tr := traces(t, db, "s3cret"); len(tr) != 0 {
		t.Errorf("the token is stored in clear in %v, want nowhere", tr)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_sinks WHERE name = 'siem' AND secret = '' AND length(secret_sealed) > 0`); n != 1 {
		t.Error("the siem sink's token is not stored sealed")
	}
}

// testSinkKey seals the sinks' credentials in tests.
var testSinkKey = []byte("0123456789abcdef0123456789abcdef")

func TestSinkValidation(t *testing.T) {
	for _, s := range []Sink{
		{Name: "x", URL: "ftp://example.com/", Auth: "none"},
		{Name: "x", URL: "https://", Auth: "none"},
		{Name: "", URL: "https://example.com/", Auth: "none"},
		{Name: "x", URL: "https://example.com/", Auth: "basic", Username: "u"},
		{Name: "x", URL: "https://example.com/", Auth: "bearer"},
		{Name: "x", URL: "https://example.com/", Auth: "digest"},
	} {
		if err := s.validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := (Sink{Name: "x", URL: "https://example.com/hook", Auth: "basic", Username: "u", Secret: "p"}).validate(); err != nil {
		t.Errorf("a good sink refused: %v", err)
	}
}

// TestAHangingSinkNeverHoldsUpTheWriter keeps a receiver's request open for
// as long as the test wants and stores calls of the same organisation
// meanwhile: the writer must not wait for the delivery.
func TestAHangingSinkNeverHoldsUpTheWriter(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	defer srv.Close()
	defer close(release)
	if _, err := CreateSink(context.Background(), db, testSinkKey, Sink{OrganisationID: org, Name: "hangs", URL: srv.URL, TLSVerify: true}); err != nil {
		t.Fatal(err)
	}
	d := &Delivery{DB: db, Key: testSinkKey, PollInterval: 10 * time.Millisecond, Timeout: time.Hour}
	d.Start()
	w := openWriter(t, db, Config{})
	cs, ls, lq, le, ce := call(org, t0, "alice")
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "the first call")
	<-arrived // a delivery now holds its transaction open
	cs, ls, lq, le, ce = call(org, t0.Add(time.Hour), "bob")
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "a call while the sink hangs")
	if n := count(t, db, `SELECT count(*) FROM cdr_sink_queue`); n != 8 {
		t.Errorf("%d events queued, want 8", n)
	}
	go func() { // Close waits for the hanging delivery; the deferred close(release) ends it
		_ = d.Close()
	}()
}
