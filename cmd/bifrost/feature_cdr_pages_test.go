package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
	"github.com/bifrost-video/bifrost/webadmin"
)

// cdrPagesEnv is two organisations, each with one recorded conference, and
// the web admin with the call records' feature.
type cdrPagesEnv struct {
	db                    *sqlx.DB
	h                     http.Handler
	store                 *webadmin.Store
	orgA, orgB            webadmin.Organisation
	confA, confB          string
	adminA, viewerA, admB string // session cookies
	tokenA, tokenB        string
	roomA                 string
}

func newCDRPagesEnv(t *testing.T) *cdrPagesEnv {
	t.Helper()
	e := &cdrPagesEnv{db: pgtest.New(t), confA: "00000000-0000-4000-8000-00000000000a", confB: "00000000-0000-4000-8000-00000000000b"}
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorCLI, Name: "test"})
	e.store = webadmin.NewStore(e.db, nil)
	var err error
	if e.orgA, err = e.store.CreateOrganisation(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if e.orgB, err = e.store.CreateOrganisation(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&e.roomA, `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'Board room', '7001') RETURNING id`, e.orgA.ID); err != nil {
		t.Fatal(err)
	}
	// A's call: Alice on SIP with 10 % loss in the board room on 1 May;
	// B's: Bob. A name with markup must show as text.
	for _, c := range []struct{ conf, org, room, name string }{
		{e.confA, e.orgA.ID, e.roomA, "Alice <b>A</b>"}, {e.confB, e.orgB.ID, "", "Bob"}} {
		e.db.MustExec(`INSERT INTO cdr_conferences (id, organisation_id, room_id, room_name, started_at, ended_at, peak_participants)
			VALUES ($1, $2, nullif($3, '')::uuid, 'Board room', '2026-05-01T09:00:00Z', '2026-05-01T09:30:00Z', 1)`, c.conf, c.org, c.room)
		e.db.MustExec(`INSERT INTO cdr_legs (id, conference_id, organisation_id, room_id, direction, protocol, display_name, remote_uri, remote_ip,
				started_at, ended_at, duration, end_reason, packets_received, packets_lost)
			VALUES (gen_random_uuid(), $1, $2, nullif($3, '')::uuid, 'in', 'sip', $4, 'sip:person@example.com', '192.0.2.7',
				'2026-05-01T09:00:00Z', '2026-05-01T09:30:00Z', interval '30 minutes', 'hung_up', 900, 100)`, c.conf, c.org, c.room, c.name)
	}
	session := func(org string, email string, role webadmin.Role) string {
		pw := "correct horse battery staple"
		u, err := e.store.CreateUser(ctx, org, webadmin.UserInput{Name: &email, Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := e.store.CreateSession(ctx, u, org, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.adminA = session(e.orgA.ID, "dpo@a.example", webadmin.RoleAdmin)
	e.viewerA = session(e.orgA.ID, "viewer@a.example", webadmin.RoleViewer)
	e.admB = session(e.orgB.ID, "dpo@b.example", webadmin.RoleAdmin)
	for _, tk := range []struct {
		org  string
		into *string
	}{{e.orgA.ID, &e.tokenA}, {e.orgB.ID, &e.tokenB}} {
		if _, *tk.into, err = e.store.CreateToken(ctx, tk.org, webadmin.TokenInput{Name: "t", Role: webadmin.RoleAdmin}, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.h = webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: e.db, Features: []webadmin.Feature{cdrFeature(e.db)}}).Handler()
	return e
}

// page requests path with a session; a form (with the session's CSRF token
// taken from csrfFrom's page) makes it a POST.
func (e *cdrPagesEnv) page(t *testing.T, session, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if method == "POST" {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", e.csrf(t, session))
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://example.com")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.AddCookie(&http.Cookie{Name: webadmin.SessionCookie, Value: session})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the session's form token from a page that has a form.
func (e *cdrPagesEnv) csrf(t *testing.T, session string) string {
	t.Helper()
	rec := e.page(t, session, "GET", "/admin/", nil)
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no CSRF token on the dashboard: %d", rec.Code)
	}
	return m[1]
}

// TestCDRPages walks the call records' admin pages as an organisation's
// viewer and admin: the list and its filters, a conference with its
// participants' quality, the charts, and the privacy requests.
func TestCDRPages(t *testing.T) {
	t.Parallel()
	e := newCDRPagesEnv(t)

	t.Run("the list shows the organisation's conferences only, with CSV links", func(t *testing.T) {
		rec := e.page(t, e.viewerA, "GET", "/admin/cdr", nil)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "/admin/cdr/conferences/"+e.confA) || strings.Contains(body, e.confB) {
			t.Fatalf("%d %s", rec.Code, body)
		}
		for _, want := range []string{"2026-05-01 09:00:00", "0:30:00", `href="/api/v1/cdr/legs?format=csv"`, `aria-current="page"`, "Board room"} {
			if !strings.Contains(body, want) {
				t.Errorf("the list lacks %q", want)
			}
		}
	})
	t.Run("filters narrow the list and reach the CSV links", func(t *testing.T) {
		for _, tt := range []struct {
			query string
			found bool
		}{
			{"from=2026-05-01&to=2026-05-01", true},
			{"from=2026-05-02", false},
			{"room_id=" + e.roomA, true},
			{"protocol=webrtc", false},
			{"min_loss_percent=5", true},
			{"min_loss_percent=15", false},
			{"end_reason=kicked", false},
			{"end_reason=hung_up", true},
		} {
			rec := e.page(t, e.viewerA, "GET", "/admin/cdr?"+tt.query, nil)
			if got := strings.Contains(rec.Body.String(), e.confA); rec.Code != 200 || got != tt.found {
				t.Errorf("%s: %d, listed %v, want %v", tt.query, rec.Code, got, tt.found)
			}
		}
		rec := e.page(t, e.viewerA, "GET", "/admin/cdr?protocol=sip&min_loss_percent=5", nil)
		if !strings.Contains(rec.Body.String(), "/api/v1/cdr/conferences?format=csv&amp;min_loss_percent=5&amp;protocol=sip") {
			t.Errorf("the CSV link does not carry the filters")
		}
	})
	t.Run("a bad filter says which, with 400", func(t *testing.T) {
		rec := e.page(t, e.viewerA, "GET", "/admin/cdr?min_loss_percent=lots&from=May", nil)
		if body := rec.Body.String(); rec.Code != 400 || !strings.Contains(body, "must be a number from 0 to 100") || !strings.Contains(body, "must be a date") {
			t.Errorf("%d %s", rec.Code, body)
		}
	})
	t.Run("a conference shows its participants and their quality, escaped", func(t *testing.T) {
		rec := e.page(t, e.viewerA, "GET", "/admin/cdr/conferences/"+e.confA, nil)
		body := rec.Body.String()
		for _, want := range []string{"Alice &lt;b&gt;A&lt;/b&gt;", "sip:person@example.com from 192.0.2.7", "<strong>10 % (100 of 1000)</strong>", "hung_up"} {
			if !strings.Contains(body, want) {
				t.Errorf("the conference page lacks %q", want)
			}
		}
		if rec.Code != 200 || strings.Contains(body, "<b>A</b>") {
			t.Errorf("%d, or the name's markup reached the page", rec.Code)
		}
		if rec := e.page(t, e.viewerA, "GET", "/admin/cdr/conferences/"+e.confB, nil); rec.Code != 404 || strings.Contains(rec.Body.String(), "Bob") {
			t.Errorf("another organisation's conference: %d", rec.Code)
		}
	})
	t.Run("the charts are inline SVG with the day's figures", func(t *testing.T) {
		rec := e.page(t, e.viewerA, "GET", "/admin/cdr/charts?from=2026-04-30&to=2026-05-02", nil)
		body := rec.Body.String()
		if rec.Code != 200 || strings.Count(body, "<svg") != 4 || strings.Contains(body, "<script") {
			t.Fatalf("%d, %d charts", rec.Code, strings.Count(body, "<svg"))
		}
		for _, want := range []string{"Calls per day", "05-01: 1</title>", "05-01: 30 min</title>", "05-01: 100 %</title>", "04-30: 0</title>", "calls 1, minutes 30."} {
			if !strings.Contains(body, want) {
				t.Errorf("the charts lack %q", want)
			}
		}
		if rec := e.page(t, e.viewerA, "GET", "/admin/cdr/charts?from=2026-05-01", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="to" type="date" value="20`) {
			t.Errorf("a period without an end runs to today: %d", rec.Code)
		}
		if rec := e.page(t, e.viewerA, "GET", "/admin/cdr/charts?from=2026-05-02&to=2026-05-01", nil); rec.Code != 400 {
			t.Errorf("a backward period: %d", rec.Code)
		}
	})
	t.Run("a viewer may not make privacy requests", func(t *testing.T) {
		if rec := e.page(t, e.viewerA, "GET", "/admin/privacy", nil); rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
		if rec := e.page(t, e.viewerA, "POST", "/admin/privacy/export", url.Values{"subject": {"sip:person@example.com"}}); rec.Code != http.StatusForbidden {
			t.Errorf("export: %d", rec.Code)
		}
	})
	t.Run("an admin exports a person as a JSON download", func(t *testing.T) {
		if rec := e.page(t, e.adminA, "GET", "/admin/privacy", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `action="/admin/privacy/erase"`) {
			t.Fatalf("privacy page: %d", rec.Code)
		}
		rec := e.page(t, e.adminA, "POST", "/admin/privacy/export", url.Values{"subject": {"sip:person@example.com"}})
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") ||
			!strings.Contains(rec.Body.String(), `"display_name": "Alice \u003cb\u003eA\u003c/b\u003e"`) || strings.Contains(rec.Body.String(), "Bob") {
			t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	})
	t.Run("erasure needs the box ticked, then erases and is audited", func(t *testing.T) {
		rec := e.page(t, e.adminA, "POST", "/admin/privacy/erase", url.Values{"erase_subject": {"sip:person@example.com"}})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "cannot be undone") {
			t.Errorf("without confirmation: %d", rec.Code)
		}
		var names int
		e.db.Get(&names, `SELECT count(*) FROM cdr_legs WHERE remote_uri IS NOT NULL`)
		if names != 2 {
			t.Fatalf("%d legs with an address before erasure, want 2", names)
		}
		rec = e.page(t, e.adminA, "POST", "/admin/privacy/erase", url.Values{"erase_subject": {"sip:person@example.com"}, "confirm": {"yes"}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("erase: %d %s", rec.Code, rec.Body)
		}
		next := e.page(t, e.adminA, "GET", rec.Header().Get("Location"), nil)
		if body := next.Body.String(); !strings.Contains(body, "cdr_legs 1") || strings.Contains(body, "person@example.com") {
			t.Errorf("after erasure the page says %q", body[strings.Index(body, "<main"):])
		}
		var left []string
		e.db.Select(&left, `SELECT organisation_id::text FROM cdr_legs WHERE remote_uri = 'sip:person@example.com' OR display_name LIKE 'Alice%'`)
		if len(left) != 1 || left[0] != e.orgB.ID {
			t.Errorf("legs still naming the person: %v, want only B's", left)
		}
		var audited int
		e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'privacy.erase' AND actor_kind = 'user' AND organisation_id = $1`, e.orgA.ID)
		if audited != 1 {
			t.Errorf("%d erasures audited as the user, want 1", audited)
		}
	})
	t.Run("times and date filters are in the organisation's time zone", func(t *testing.T) {
		e.db.MustExec(`UPDATE organisations SET time_zone = 'Asia/Tokyo' WHERE id = $1`, e.orgA.ID)
		defer e.db.MustExec(`UPDATE organisations SET time_zone = 'UTC' WHERE id = $1`, e.orgA.ID)
		// 09:00 UTC on 1 May is 18:00 in Tokyo.
		body := e.page(t, e.viewerA, "GET", "/admin/cdr", nil).Body.String()
		if !strings.Contains(body, "Started (Asia/Tokyo)") || !strings.Contains(body, "2026-05-01 18:00:00") {
			t.Errorf("the list does not show Tokyo time:\n%s", body)
		}
		body = e.page(t, e.viewerA, "GET", "/admin/cdr/conferences/"+e.confA, nil).Body.String()
		if !strings.Contains(body, "2026-05-01 18:00:00") || strings.Contains(body, "09:00:00") {
			t.Errorf("the conference page does not show Tokyo time:\n%s", body)
		}
		// In Pago Pago (UTC-11) 09:00 UTC on 1 May is 22:00 on 30 April: the
		// call is on that day, not on 1 May.
		e.db.MustExec(`UPDATE organisations SET time_zone = 'Pacific/Pago_Pago' WHERE id = $1`, e.orgA.ID)
		for day, found := range map[string]bool{"2026-04-30": true, "2026-05-01": false} {
			body := e.page(t, e.viewerA, "GET", "/admin/cdr?from="+day+"&to="+day, nil).Body.String()
			if strings.Contains(body, "/admin/cdr/conferences/"+e.confA) != found {
				t.Errorf("filtered on the Pago Pago day %s: found %v, want %v", day, !found, found)
			}
		}
	})
}

// TestCDRRoutesTenantIsolation requests every route of the call records'
// feature as organisation B about organisation A's conference and person:
// object routes answer 404, and no answer shows A's data or changes it. A
// route this test does not know fails it.
func TestCDRRoutesTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newCDRPagesEnv(t)
	secretsOfA := []string{e.confA, "Alice", e.roomA}
	for _, rt := range cdrFeature(e.db).Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		t.Run(rt.Pattern, func(t *testing.T) {
			path := strings.Replace(path, "{id}", e.confA, 1)
			if strings.Contains(path, "{") {
				t.Fatalf("unknown path parameter in %s: extend this test", rt.Pattern)
			}
			var status int
			var body string
			if strings.HasPrefix(path, "/api/") {
				var in string
				if method == "POST" {
					in = `{"subject": "sip:person@example.com", "confirm": true}`
				}
				req := httptest.NewRequest(method, path, strings.NewReader(in))
				req.Header.Set("Authorization", "Bearer "+e.tokenB)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				status, body = rec.Code, rec.Body.String()
			} else {
				rec := e.page(t, e.admB, method, path, url.Values{"subject": {"sip:person@example.com"},
					"erase_subject": {"sip:person@example.com"}, "confirm": {"yes"}})
				status, body = rec.Code, rec.Body.String()
			}
			switch {
			case strings.Contains(rt.Pattern, "{id}"):
				if status != http.StatusNotFound {
					t.Errorf("%d, want 404", status)
				}
			case status >= 400: // a form may answer 303
				t.Errorf("%d", status)
			}
			for _, s := range secretsOfA {
				if strings.Contains(body, s) {
					t.Errorf("the answer shows organisation A's %q", s)
				}
			}
		})
	}
	var n int
	e.db.Get(&n, `SELECT count(*) FROM cdr_legs WHERE organisation_id = $1 AND display_name LIKE 'Alice%' AND remote_uri IS NOT NULL`, e.orgA.ID)
	if n != 1 {
		t.Errorf("A's leg after B's requests: %d left, want 1", n)
	}
}

// FuzzPageFilter feeds the list page's query string parser anything: it
// never panics, and what it accepts is a filter the store can run (a room ID
// that is a UUID, a loss share from 0 to 100, a non-negative offset).
func FuzzPageFilter(f *testing.F) {
	for _, seed := range []string{"", "from=2026-05-01&to=2026-05-31&protocol=sip&min_loss_percent=2.5&page=3",
		"room_id=00000000-0000-4000-8000-00000000000a", "min_loss_percent=NaN&page=-1", "from=2026-02-30&to=%zz", "page=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/admin/cdr", nil)
		r.URL.RawQuery = query
		flt, _, errs := pageFilter(r, "00000000-0000-4000-8000-000000000001", time.UTC)
		if len(errs) > 0 {
			return
		}
		if flt.RoomID != "" && !isUUID(flt.RoomID) || !(flt.MinLossPercent >= 0 && flt.MinLossPercent <= 100) || flt.Offset < 0 {
			t.Errorf("accepted %q as %+v", query, flt)
		}
	})
}
