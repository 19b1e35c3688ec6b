package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
	"github.com/bifrost-video/bifrost/webadmin"
)

// adminLeg is a call leg that records what the bridge asks of it; hung up, it
// leaves at once, as a SIP leg does after its BYE.
type adminLeg struct {
	info bridge.LegInfo
	mu   sync.Mutex
	p    *bridge.Participant
	ends []bridge.EndReason
}

func (l *adminLeg) Info() bridge.LegInfo         { return l.info }
func (l *adminLeg) AudioCodec() media.AudioCodec { return media.PCMU }
func (l *adminLeg) SendAudio([]byte)             {}
func (l *adminLeg) Quality() bridge.Quality      { return bridge.Quality{} }
func (l *adminLeg) Hangup(reason bridge.EndReason, _ int) {
	l.mu.Lock()
	l.ends = append(l.ends, reason)
	p := l.p
	l.mu.Unlock()
	go p.Leave(reason, 0)
}

func (l *adminLeg) hangups() []bridge.EndReason {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bridge.EndReason(nil), l.ends...)
}

// confEnv is a web admin with the live conferences feature on a real Bridge,
// organisations A and B, and API tokens of each role.
type confEnv struct {
	t                       *testing.T
	db                      *webadmin.Store
	br                      *bridge.Bridge
	h                       http.Handler
	orgA, orgB              string
	adminA, viewerA, adminB string // API tokens
	sessA, csrfA            string // organisation A's admin, signed in
	sessB, csrfB            string // organisation B's admin, signed in
	roomA, roomB            bridge.RoomInfo
}

func newConfEnv(t *testing.T) *confEnv {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	store := webadmin.NewStore(db, nil)
	e := &confEnv{t: t, db: store}
	for _, o := range []struct {
		name string
		id   *string
	}{{"A", &e.orgA}, {"B", &e.orgB}} {
		org, err := store.CreateOrganisation(ctx, o.name)
		if err != nil {
			t.Fatal(err)
		}
		*o.id = org.ID
	}
	for _, tk := range []struct {
		org  string
		role webadmin.Role
		into *string
	}{{e.orgA, webadmin.RoleAdmin, &e.adminA}, {e.orgA, webadmin.RoleViewer, &e.viewerA}, {e.orgB, webadmin.RoleAdmin, &e.adminB}} {
		_, secret, err := store.CreateToken(ctx, tk.org, webadmin.TokenInput{Name: "ops-" + string(tk.role), Role: tk.role}, "")
		if err != nil {
			t.Fatal(err)
		}
		*tk.into = secret
	}
	e.sessA, e.csrfA = signIn(t, store, e.orgA, "ada@a.example", webadmin.RoleAdmin)
	e.sessB, e.csrfB = signIn(t, store, e.orgB, "bea@b.example", webadmin.RoleAdmin)
	e.br = bridge.New(bridge.Config{}, bridge.Deps{Resolver: bridge.ResolverFunc(func(context.Context, string) (bridge.RoomInfo, error) {
		return bridge.RoomInfo{}, bridge.ErrRoomNotFound
	})})
	t.Cleanup(func() { _ = e.br.Close() })
	e.roomA = bridge.RoomInfo{ID: "10000000-0000-4000-8000-00000000000a", OrganisationID: bridge.OrganisationID(e.orgA), Name: "Board of A", Alias: "1001"}
	e.roomB = bridge.RoomInfo{ID: "10000000-0000-4000-8000-00000000000b", OrganisationID: bridge.OrganisationID(e.orgB), Name: "Board of B", Alias: "2001"}
	e.h = webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: db, Features: []webadmin.Feature{conferencesFeature(db, e.br, nil)}}).Handler()
	return e
}

// signIn creates a user of org with role and a session for it.
func signIn(t *testing.T, store *webadmin.Store, org, email string, role webadmin.Role) (session, csrf string) {
	t.Helper()
	ctx := context.Background()
	name, pw := "User "+email, "a long enough passphrase"
	u, err := store.CreateUser(ctx, org, webadmin.UserInput{Name: &name, Email: &email, Role: &role, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	if session, _, err = store.CreateSession(ctx, u, org, "192.0.2.1:1", "test"); err != nil {
		t.Fatal(err)
	}
	sess, err := store.SessionByID(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	return session, sess.CSRF
}

// join admits a SIP caller named name to room and waits until it is in the mix.
func (e *confEnv) join(room bridge.RoomInfo, name string) (*bridge.Participant, *adminLeg) {
	e.t.Helper()
	leg := &adminLeg{info: bridge.LegInfo{Protocol: bridge.ProtocolSIP, Transport: "udp", DisplayName: name, RemoteURI: "sip:" + name + "@example.com"}}
	leg.mu.Lock()
	defer leg.mu.Unlock()
	p, err := e.br.Admit(context.Background(), room, leg)
	if err != nil {
		e.t.Fatal(err)
	}
	leg.p = p
	return p, leg
}

// api calls the REST API with token and a JSON body (none when nil).
func (e *confEnv) api(token, method, path string, body any) (int, string) {
	e.t.Helper()
	var req *http.Request
	if body != nil {
		b, _ := json.Marshal(body)
		req = httptest.NewRequest(method, path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// page requests an admin page as A's signed-in admin; a POST sends form with
// the session's CSRF token.
func (e *confEnv) page(method, path string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.pageAs(e.sessA, e.csrfA, method, path, form)
}

// pageAs requests an admin page in session sess.
func (e *confEnv) pageAs(sess, csrf, method, path string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", csrf)
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: webadmin.SessionCookie, Value: sess})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// waitUntil polls cond, failing after a generous while with what it waited for.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// auditActions returns the live conference actions of org's audit log, oldest first.
func auditActions(t *testing.T, db *webadmin.Store, org string) []string {
	t.Helper()
	rows, _, err := audit.List(context.Background(), db.DB(), audit.Filter{OrganisationID: org, Action: "conference.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Action+" by "+rows[i].ActorName)
	}
	return out
}

type confJSON struct {
	ID               string `json:"id"`
	RoomName         string `json:"room_name"`
	Locked           bool   `json:"locked"`
	ParticipantCount int    `json:"participant_count"`
	Participants     []struct {
		ID              string `json:"id"`
		Name            string `json:"name"`
		Protocol        string `json:"protocol"`
		Codec           string `json:"codec"`
		Role            string `json:"role"`
		State           string `json:"state"`
		Muted           bool   `json:"muted"`
		DurationSeconds *int64 `json:"duration_seconds"`
	} `json:"participants"`
}

// TestConferencesAPI drives the live conferences API against a real Bridge:
// an organisation lists and reads its conference, a viewer may not change it,
// an admin mutes, locks and hangs up on participants (each audited), and bad
// requests get clear errors.
func TestConferencesAPI(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	alice, _ := e.join(e.roomA, "alice")
	bob, bobLeg := e.join(e.roomA, "bob")
	e.join(e.roomB, "carol")
	waitUntil(t, "alice and bob to join the mix", func() bool { return alice.Joined() && bob.Joined() })
	conf := string(alice.ConferenceID())
	base := "/api/v1/conferences/" + conf

	if s, _ := e.api("", "GET", "/api/v1/conferences", nil); s != http.StatusUnauthorized {
		t.Errorf("without a token: %d", s)
	}
	s, body := e.api(e.viewerA, "GET", "/api/v1/conferences", nil)
	var list struct {
		Items []confJSON `json:"items"`
		Total int        `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || s != 200 || list.Total != 1 || list.Items[0].ID != conf ||
		list.Items[0].RoomName != "Board of A" || list.Items[0].ParticipantCount != 2 {
		t.Fatalf("list: %d %s", s, body)
	}
	if strings.Contains(body, "carol") || strings.Contains(body, "Board of B") {
		t.Errorf("the list shows organisation B's conference: %s", body)
	}
	get := func() confJSON {
		t.Helper()
		s, body := e.api(e.viewerA, "GET", base, nil)
		var c confJSON
		if err := json.Unmarshal([]byte(body), &c); err != nil || s != 200 {
			t.Fatalf("get: %d %s", s, body)
		}
		return c
	}
	c := get()
	if len(c.Participants) != 2 || c.Participants[0].Name != "alice" || c.Participants[1].Name != "bob" {
		t.Fatalf("participants: %+v", c.Participants)
	}
	if p := c.Participants[1]; p.ID != string(bob.ID()) || p.Protocol != "sip" || p.Codec != media.PCMU.String() || p.Role != "host" ||
		p.State != "joined" || p.Muted || p.DurationSeconds == nil {
		t.Errorf("bob: %+v", p)
	}

	// A viewer reads only.
	for _, w := range []struct{ method, path string }{
		{"POST", base + "/participants/" + string(bob.ID()) + "/mute"},
		{"DELETE", base + "/participants/" + string(bob.ID())},
		{"POST", base + "/lock"},
	} {
		if s, body := e.api(e.viewerA, w.method, w.path, map[string]bool{"muted": true, "locked": true}); s != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", w.method, w.path, s, body)
		}
	}

	// Bad requests.
	for _, bad := range []struct {
		path  string
		body  any
		want  int
		field string
	}{
		{base + "/participants/" + string(bob.ID()) + "/mute", map[string]string{"muted": "yes"}, 400, "body"},
		{base + "/participants/" + string(bob.ID()) + "/mute", map[string]bool{}, 400, "muted"},
		{base + "/participants/" + string(bob.ID()) + "/mute", map[string]bool{"muted": true, "deaf": true}, 400, "muted"},
		{base + "/lock", map[string]bool{"muted": true}, 400, "locked"},
		{base + "/participants/00000000-0000-4000-8000-000000000000/mute", map[string]bool{"muted": true}, 404, ""},
		{"/api/v1/conferences/00000000-0000-4000-8000-000000000000/lock", map[string]bool{"locked": true}, 404, ""},
	} {
		s, body := e.api(e.adminA, "POST", bad.path, bad.body)
		if s != bad.want || (bad.field != "" && !strings.Contains(body, `"field": "`+bad.field+`"`)) {
			t.Errorf("POST %s %v: %d %s; want %d on %q", bad.path, bad.body, s, body, bad.want, bad.field)
		}
	}
	if c := get(); c.Locked || c.Participants[1].Muted {
		t.Fatalf("a refused request changed the conference: %+v", c)
	}

	// An admin mutes bob, locks the conference, and hangs up on bob.
	if s, body := e.api(e.adminA, "POST", base+"/participants/"+string(bob.ID())+"/mute", map[string]bool{"muted": true}); s != 200 || !strings.Contains(body, `"muted": true`) {
		t.Errorf("mute: %d %s", s, body)
	}
	if c := get(); !c.Participants[1].Muted || c.Participants[0].Muted {
		t.Errorf("after muting bob: %+v", c.Participants)
	}
	if s, body := e.api(e.adminA, "POST", base+"/lock", map[string]bool{"locked": true}); s != 200 || !strings.Contains(body, `"locked": true`) {
		t.Errorf("lock: %d %s", s, body)
	}
	if _, err := e.br.Admit(context.Background(), e.roomA, &adminLeg{info: bridge.LegInfo{Protocol: bridge.ProtocolSIP, DisplayName: "dave"}}); err == nil {
		t.Error("dave joined a locked conference")
	}
	if s, body := e.api(e.adminA, "DELETE", base+"/participants/"+string(bob.ID()), nil); s != http.StatusNoContent {
		t.Errorf("kick: %d %s", s, body)
	}
	waitUntil(t, "bob to be hung up and leave", func() bool { return len(get().Participants) == 1 })
	if got := bobLeg.hangups(); len(got) != 1 || got[0] != bridge.EndKicked {
		t.Errorf("bob's leg was asked to hang up with %v; want [kicked]", got)
	}
	if s, _ := e.api(e.adminA, "DELETE", base+"/participants/"+string(bob.ID()), nil); s != http.StatusNotFound {
		t.Errorf("kicking bob again: %d", s)
	}
	got := strings.Join(auditActions(t, e.db, e.orgA), ", ")
	if want := "conference.mute by ops-admin, conference.lock by ops-admin, conference.kick by ops-admin"; got != want {
		t.Errorf("audit log of A: %s; want %s", got, want)
	}
	// The audit log names participants by ID only: it outlives the call
	// records' anonymisation.
	rows, _, err := audit.List(context.Background(), e.db.DB(), audit.Filter{OrganisationID: e.orgA, Action: "conference.", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if strings.Contains(string(row.Summary), "bob") || (row.ObjectType == "participant" && row.ObjectID != string(bob.ID())) {
			t.Errorf("audit entry %s %s %s", row.Action, row.ObjectID, row.Summary)
		}
	}
}

// TestConferencesTenantIsolation requests every route of the feature as
// organisation B about organisation A's live conference and participant: each
// answers 404, no answer shows A's names, and A's conference is unchanged. A
// route this test does not know fails it.
func TestConferencesTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	alice, aliceLeg := e.join(e.roomA, "alice")
	waitUntil(t, "alice to join", alice.Joined)
	conf, pid := string(alice.ConferenceID()), string(alice.ID())
	for _, rt := range conferencesFeature(nil, e.br, nil).Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		t.Run(rt.Pattern, func(t *testing.T) {
			path := strings.NewReplacer("{id}", conf, "{pid}", pid).Replace(path)
			if strings.Contains(path, "{") {
				t.Fatalf("unknown path parameter in %s: extend this test", rt.Pattern)
			}
			var status int
			var body string
			if strings.HasPrefix(path, "/api/") {
				var b any
				switch {
				case strings.HasSuffix(path, "/mute"):
					b = map[string]bool{"muted": true}
				case strings.HasSuffix(path, "/lock"):
					b = map[string]bool{"locked": true}
				}
				status, body = e.api(e.adminB, method, path, b)
			} else {
				rec := e.pageAs(e.sessB, e.csrfB, method, path, url.Values{"muted": {"true"}, "locked": {"true"}})
				status, body = rec.Code, rec.Body.String()
			}
			if strings.Contains(rt.Pattern, "{id}") && status != http.StatusNotFound {
				t.Errorf("%d, want 404", status)
			} else if status >= 400 && !strings.Contains(rt.Pattern, "{id}") {
				t.Errorf("%d", status)
			}
			for _, secret := range []string{conf, pid, "alice", "Board of A"} {
				if strings.Contains(body, secret) {
					t.Errorf("the answer shows organisation A's %q", secret)
				}
			}
		})
	}
	v, err := e.br.Conference(context.Background(), alice.ConferenceID())
	if err != nil || v.Locked || len(v.Participants) != 1 || v.Participants[0].Muted || len(aliceLeg.hangups()) != 0 {
		t.Errorf("A's conference after B's requests: %+v %v, hangups %v", v, err, aliceLeg.hangups())
	}
	if got := auditActions(t, e.db, e.orgA); len(got) != 0 {
		t.Errorf("audit entries for A's conference: %v", got)
	}
}

// TestLiveConferencesPages uses the admin pages as a person would: the list
// links the conference, its page shows the participants with mute, hang-up
// and lock buttons as forms with the CSRF token, and each form does what it
// says and comes back with a message.
func TestLiveConferencesPages(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	alice, _ := e.join(e.roomA, "alice")
	bob, bobLeg := e.join(e.roomA, "bob")
	waitUntil(t, "alice and bob to join", func() bool { return alice.Joined() && bob.Joined() })
	conf := string(alice.ConferenceID())
	detail := "/admin/conferences/" + conf

	// Times are in the organisation's time zone.
	if _, err := e.db.SetTimeZone(context.Background(), e.orgA, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	view, err := e.br.Conference(context.Background(), alice.ConferenceID())
	if err != nil {
		t.Fatal(err)
	}
	started := view.StartedAt.In(webadmin.LoadLocation("Asia/Tokyo")).Format("2006-01-02 15:04:05") + " Asia/Tokyo"
	rec := e.page("GET", "/admin/conferences", nil)
	if !strings.Contains(rec.Body.String(), started) {
		t.Errorf("the list does not show the start as %q:\n%s", started, rec.Body)
	}
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<a href="`+detail+`">Board of A</a>`) ||
		!strings.Contains(rec.Body.String(), `aria-current="page">Live conferences</a>`) {
		t.Fatalf("list: %d\n%s", rec.Code, rec.Body)
	}
	rec = e.page("GET", detail, nil)
	body := rec.Body.String()
	for _, want := range []string{
		"<h1>Conference in Board of A</h1>",
		`action="` + detail + `/participants/` + string(bob.ID()) + `/mute"`,
		`action="` + detail + `/participants/` + string(bob.ID()) + `/kick"`,
		`action="` + detail + `/lock"`,
		`name="csrf" value="` + e.csrfA + `"`,
		"Mute bob", "Hang up on alice", "Lock the conference",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the conference page lacks %s", want)
		}
	}
	post := func(path string, form url.Values, flash string) {
		t.Helper()
		rec := e.page("POST", path, form)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		if page := e.page("GET", rec.Header().Get("Location"), nil).Body.String(); !strings.Contains(page, flash) {
			t.Errorf("after POST %s the page lacks %q", path, flash)
		}
	}
	if rec := e.page("POST", detail+"/lock", url.Values{"locked": {"yes"}}); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "locked must be true or false") {
		t.Errorf("a bad form value: %d %s", rec.Code, rec.Body)
	}
	// A viewer sees the conference without the buttons and may not use them.
	vs, vcsrf := signIn(t, e.db, e.orgA, "vic@a.example", webadmin.RoleViewer)
	if rec := e.pageAs(vs, vcsrf, "GET", detail, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "bob") || strings.Contains(rec.Body.String(), "Mute bob") {
		t.Errorf("the viewer's page: %d", rec.Code)
	}
	if rec := e.pageAs(vs, vcsrf, "POST", detail+"/participants/"+string(bob.ID())+"/mute", url.Values{"muted": {"true"}}); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer muting: %d", rec.Code)
	}
	post(detail+"/participants/"+string(bob.ID())+"/mute", url.Values{"muted": {"true"}}, "Muted bob.")
	if body := e.page("GET", detail, nil).Body.String(); !strings.Contains(body, "Unmute bob") {
		t.Error("bob is not shown muted")
	}
	post(detail+"/lock", url.Values{"locked": {"true"}}, "Locked: nobody else may join.")
	post(detail+"/participants/"+string(bob.ID())+"/kick", url.Values{}, "Hung up on bob.")
	waitUntil(t, "bob to leave", func() bool {
		v, _ := e.br.Conference(context.Background(), alice.ConferenceID())
		return len(v.Participants) == 1
	})
	if got := bobLeg.hangups(); len(got) != 1 || got[0] != bridge.EndKicked {
		t.Errorf("bob's hang-ups: %v", got)
	}
	if rec := e.page("POST", detail+"/participants/"+string(bob.ID())+"/kick", url.Values{}); rec.Code != http.StatusNotFound {
		t.Errorf("kicking bob again: %d", rec.Code)
	}
	// A form without the session's token is refused and changes nothing.
	req := httptest.NewRequest("POST", detail+"/lock", strings.NewReader("locked=false&csrf=forged"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: webadmin.SessionCookie, Value: e.sessA})
	forged := httptest.NewRecorder()
	e.h.ServeHTTP(forged, req)
	if v, _ := e.br.Conference(context.Background(), alice.ConferenceID()); forged.Code != http.StatusForbidden || !v.Locked {
		t.Errorf("a forged form: %d, locked %v", forged.Code, v.Locked)
	}
	got := strings.Join(auditActions(t, e.db, e.orgA), ", ")
	if want := "conference.mute by ada@a.example, conference.lock by ada@a.example, conference.kick by ada@a.example"; got != want {
		t.Errorf("audit log: %s; want %s", got, want)
	}
}

// TestConferencesOpenAPI checks that every API route of the feature is in the
// served OpenAPI document, with its method.
func TestConferencesOpenAPI(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	s, body := e.api("", "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || s != 200 {
		t.Fatalf("openapi.json: %d %v", s, err)
	}
	for _, rt := range conferencesFeature(nil, e.br, nil).Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if api, ok := strings.CutPrefix(path, "/api/v1"); ok && doc.Paths[api][strings.ToLower(method)] == nil {
			t.Errorf("%s is not documented", rt.Pattern)
		}
	}
}
