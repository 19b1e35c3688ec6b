package sipcall

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeRooms is a Rooms with one room, "1234", whose admission a test
// controls.
type fakeRooms struct {
	mu       sync.Mutex
	admitErr error
	admitted []*fakeParticipant
	// admitHook, when set, runs inside Admit (e.g. to block until a CANCEL).
	admitHook func(ctx context.Context)
	// admitLeg, when set, runs inside Admit with the leg (e.g. to hang it
	// up before Admit returns).
	admitLeg func(leg bridge.Leg)
}

var testRoom = bridge.RoomInfo{ID: "room-1", OrganisationID: "org-1", Name: "Board", Alias: "1234"}

func (r *fakeRooms) Resolve(_ context.Context, alias string) (bridge.RoomInfo, error) {
	if alias != testRoom.Alias {
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	}
	return testRoom, nil
}

func (r *fakeRooms) Admit(ctx context.Context, room bridge.RoomInfo, leg bridge.Leg) (Participant, error) {
	r.mu.Lock()
	hook, legHook, err := r.admitHook, r.admitLeg, r.admitErr
	r.mu.Unlock()
	if hook != nil {
		hook(ctx)
	}
	if legHook != nil {
		legHook(leg)
	}
	if err != nil {
		return nil, err
	}
	p := &fakeParticipant{leg: leg, id: bridge.ParticipantID(fmt.Sprintf("p%d", time.Now().UnixNano()))}
	r.mu.Lock()
	r.admitted = append(r.admitted, p)
	r.mu.Unlock()
	return p, nil
}

func (r *fakeRooms) setAdmitErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.admitErr = err
}

// last returns the participant admitted last, or nil.
func (r *fakeRooms) last() *fakeParticipant {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.admitted) == 0 {
		return nil
	}
	return r.admitted[len(r.admitted)-1]
}

// fakeParticipant records what its leg hands the bridge.
type fakeParticipant struct {
	id  bridge.ParticipantID
	leg bridge.Leg

	mu      sync.Mutex
	audio   int
	digits  []rune
	left    bool
	reason  bridge.EndReason
	code    int
	payload []byte
}

func (p *fakeParticipant) ID() bridge.ParticipantID { return p.id }

func (p *fakeParticipant) ReceiveAudio(_ uint16, _ uint32, payload []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audio++
	p.payload = append(p.payload[:0], payload...)
}

func (p *fakeParticipant) ReceiveDigit(d rune) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.digits = append(p.digits, d)
}

func (p *fakeParticipant) Leave(reason bridge.EndReason, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.left {
		p.left, p.reason, p.code = true, reason, code
	}
}

func (p *fakeParticipant) state() (audio int, digits string, left bool, reason bridge.EndReason, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.audio, string(p.digits), p.left, p.reason, p.code
}

// startCallServer starts a server routing calls to rooms, with RTP ports
// of its own and settings changed by edit.
func startCallServer(t testing.TB, rooms Rooms, edit func(*Config)) *testServer {
	t.Helper()
	logger, buf := testLogger(t)
	reg := prometheus.NewRegistry()
	pool := testPool(t, 8)
	cfg := Config{
		Addr: "127.0.0.1:0", Domain: "video.example", Rooms: rooms,
		Media: bridge.Config{RTPPortMin: pool.min, RTPPortMax: pool.max},
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewServer(cfg, logger, reg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Listen(t.Context()); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	return &testServer{Server: s, reg: reg, log: buf}
}

// testUA is a SIP caller: a sipgo user agent listening on UDP for the
// server's in-dialog requests, and an RTP peer.
type testUA struct {
	t      testing.TB
	port   int
	client *sipgo.Client
	dialog *sipgo.DialogUA
	rtp    *rtpPeer
	byes   chan *sip.Request
	infos  chan *sip.Request // INFOs the server sent (video_call_test.go)
}

func newTestUA(t testing.TB) *testUA {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bifrost-test-ua"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	u := &testUA{t: t, port: port, rtp: newRTPPeer(t), byes: make(chan *sip.Request, 4), infos: make(chan *sip.Request, 4)}
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		select {
		case u.infos <- req:
		default:
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		u.byes <- req
	})
	srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { _ = ua.Close(); _ = conn.Close() })
	u.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		t.Fatal(err)
	}
	u.dialog = &sipgo.DialogUA{Client: u.client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: port},
	}}
	return u
}

// offer is an SDP offer from the UA's RTP peer with the given m-line
// lines after the session header.
func (u *testUA) offer(lines ...string) []byte {
	addr := u.rtp.addr()
	head := []string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"}
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "$PORT", fmt.Sprint(addr.Port()))
	}
	return offerSDP(append(head, lines...)...)
}

// defaultOffer offers PCMU and telephone-event.
func (u *testUA) defaultOffer() []byte {
	return u.offer("m=audio $PORT RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendrecv")
}

// invite sends an INVITE for user at the server with body (nil: late
// offer) and waits for the final answer, which it returns with the
// dialog.
func (u *testUA) invite(s *Server, user string, body []byte, headers ...sip.Header) (*sipgo.DialogClientSession, *sip.Response) {
	u.t.Helper()
	host, port, _ := sip.ParseAddr(s.UDPAddr().String())
	recipient := sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
	headers = append(headers, sip.NewHeader("User-Agent", "bifrost-test-ua"))
	if body != nil {
		headers = append(headers, sip.NewHeader("Content-Type", "application/sdp"))
	}
	ctx, cancel := context.WithTimeout(u.t.Context(), waitTimeout)
	defer cancel()
	sess, err := u.dialog.Invite(ctx, recipient, body, headers...)
	if err != nil {
		u.t.Fatalf("INVITE: %v", err)
	}
	_ = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if sess.InviteResponse == nil {
		u.t.Fatal("INVITE: no final response")
	}
	return sess, sess.InviteResponse
}

// answerAddr returns the RTP address and codec of an SDP answer.
func answerAddr(t testing.TB, res *sip.Response) (netip.AddrPort, audioMedia) {
	t.Helper()
	sd, err := parseSDP(res.Body())
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, res.Body())
	}
	m, err := negotiateAnswer(sd, audioPreference)
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, res.Body())
	}
	return m.Remote, m
}

// ctx returns a context bounded by waitTimeout.
func (u *testUA) ctx() context.Context {
	ctx, cancel := context.WithTimeout(u.t.Context(), waitTimeout)
	u.t.Cleanup(cancel)
	return ctx
}
