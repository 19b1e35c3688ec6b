package main

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/webadmin"
)

// heldLink is a TCP proxy in front of an LDAP server that holds the server's
// answers until released: a sync through it runs, and stays running, for as
// long as the test needs to look at it.
type heldLink struct {
	ln      net.Listener
	target  string
	release chan struct{}
	once    sync.Once
}

func newHeldLink(t *testing.T, target string) *heldLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &heldLink{ln: ln, target: target, release: make(chan struct{})}
	t.Cleanup(func() { h.Release(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go h.serve(c)
		}
	}()
	return h
}

func (h *heldLink) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", h.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	<-h.release
	_, _ = io.Copy(c, s)
}

// Release lets the server's answers through.
func (h *heldLink) Release() { h.once.Do(func() { close(h.release) }) }

// TestLDAPSyncProgress starts a sync through a held link to a real slapd and
// watches it run: the runs endpoint reports its progress, the source page
// shows it and refreshes itself (a Refresh header and a meta element, no
// script); once the link is released and the run ends, neither does.
func TestLDAPSyncProgress(t *testing.T) {
	t.Parallel()
	ldapURL := startTestSlapd(t)
	u, err := url.Parse(ldapURL)
	if err != nil {
		t.Fatal(err)
	}
	link := newHeldLink(t, u.Host)
	e := newDirEnv(t)
	const suffix = "dc=nordfjord,dc=example"
	st, src, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", map[string]any{
		"name": "Nordfjord AD", "url": "ldap://" + link.ln.Addr().String(), "bind_dn": "uid=svc-videosync,ou=Service Accounts," + suffix,
		"bind_password": "videosync-test-only", "base_dns": []string{"ou=People," + suffix}, "interval": "0s"})
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	id := src["id"].(string)
	runsPath := "/api/v1/ldap-sources/" + id + "/runs"

	done := make(chan map[string]any, 1)
	go func() {
		_, rep, _ := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{})
		done <- rep
	}()
	var running map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for running == nil {
		if time.Now().After(deadline) {
			t.Fatal("waiting for the runs endpoint to report the running sync: it never did")
		}
		_, m, _ := e.do(t, e.adminA, "GET", runsPath, nil)
		running, _ = m["running"].(map[string]any)
		if running == nil {
			time.Sleep(20 * time.Millisecond) // polling: the sync starts in the other goroutine
		}
	}
	if running["phase"] != "reading" || running["source_id"] != id || running["dry_run"] != false || running["started_at"] == "" {
		t.Errorf("the running sync's progress: %v", running)
	}
	if _, m, body := e.do(t, e.adminB, "GET", runsPath, nil); m["running"] != nil {
		t.Errorf("organisation B sees A's running sync: %s", body)
	}
	admin := e.session(t, e.orgA, webadmin.RoleAdmin)
	rec := e.page(t, admin, "GET", "/admin/ldap-sources/"+id, nil)
	page := rec.Body.String()
	if rec.Code != 200 || rec.Header().Get("Refresh") == "" || !strings.Contains(page, `<section id="sync-progress"`) ||
		!strings.Contains(page, "reading from the server, 0 entries read") || !strings.Contains(page, `<meta http-equiv="refresh"`) {
		t.Errorf("the source page during a sync: %d, Refresh %q\n%s", rec.Code, rec.Header().Get("Refresh"), page)
	}

	link.Release()
	var rep map[string]any
	select {
	case rep = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("waiting for the sync to end after the link was released: it did not")
	}
	if rep["status"] != "ok" || rep["added"] == float64(0) {
		t.Errorf("the sync: %v", rep)
	}
	if _, m, body := e.do(t, e.adminA, "GET", runsPath, nil); m["running"] != nil || m["total"] != float64(1) {
		t.Errorf("runs after the sync: %s", body)
	}
	rec = e.page(t, admin, "GET", "/admin/ldap-sources/"+id, nil)
	if rec.Header().Get("Refresh") != "" || strings.Contains(rec.Body.String(), "sync-progress") {
		t.Errorf("the source page after the sync still shows it running:\n%s", rec.Body)
	}

	// The page's "Sync now" does not wait for a long run: it answers at once
	// with the source page, which shows the run going on.
	link2 := newHeldLink(t, u.Host)
	if st, _, body := e.do(t, e.adminA, "PATCH", "/api/v1/ldap-sources/"+id, map[string]any{"url": "ldap://" + link2.ln.Addr().String()}); st != 200 {
		t.Fatalf("patch: %d %s", st, body)
	}
	rec = e.page(t, admin, "POST", "/admin/ldap-sources/"+id+"/sync", url.Values{"dry_run": {"1"}})
	if rec.Code != 303 || !strings.Contains(rec.Header().Get("Location"), "progress") {
		t.Errorf("sync now through a held link: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = e.page(t, admin, "GET", "/admin/ldap-sources/"+id, nil)
	if !strings.Contains(rec.Body.String(), "A dry run is running") || rec.Header().Get("Refresh") == "" {
		t.Errorf("the source page after sync now:\n%s", rec.Body)
	}
	link2.Release()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		_, m, _ := e.do(t, e.adminA, "GET", runsPath, nil)
		if m["running"] == nil && m["total"] == float64(2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for the dry run started from the page to end and be reported: %v", m)
		}
		time.Sleep(50 * time.Millisecond) // polling: the run ends in its own goroutine
	}
}
