package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bifrost-video/bifrost/internal/slapdtest"
)

// startTestSlapd starts a scratch OpenLDAP server (internal/slapdtest) loaded
// with the shared nordfjord-small.ldif and returns its URL; it stops when the
// test ends. Without slapd or the fixture the test skips (fails with CI=true).
func startTestSlapd(t *testing.T) string {
	t.Helper()
	var ldif string
	for _, d := range []string{"../../shared", "../../../shared", "/work/shared"} {
		if p := filepath.Join(d, "testdata/directory/ldap/nordfjord-small.ldif"); dirFileExists(p) {
			ldif = p
			break
		}
	}
	if ldif == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the shared directory fixture nordfjord-small.ldif is missing")
		}
		t.Skip("the shared directory fixture nordfjord-small.ldif is missing")
	}
	s := slapdtest.New(t)
	s.Slapadd(ldif)
	s.Start()
	return s.URL
}

func dirFileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestLDAPSyncThroughAPI syncs the shared fixture from a real slapd through
// the REST API: the connection test shows mapped entries, a dry run reports
// the 19 contacts and changes nothing, the sync adds them (searchable through
// the API, accents ignored), and the runs history shows both runs.
func TestLDAPSyncThroughAPI(t *testing.T) {
	t.Parallel()
	url := startTestSlapd(t)
	e := newDirEnv(t)
	const suffix = "dc=nordfjord,dc=example"
	st, src, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", map[string]any{
		"name": "Nordfjord AD", "url": url, "bind_dn": "uid=svc-videosync,ou=Service Accounts," + suffix, "bind_password": "videosync-test-only",
		"base_dns": []string{"ou=People," + suffix, "ou=Rooms," + suffix}, "filter": "(&(objectClass=inetOrgPerson)(labeledURI=*))",
		"folders": map[string]any{"mode": "ou", "root": suffix}})
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	id := src["id"].(string)
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/test", nil); st != 200 || m["ok"] != true || len(m["entries"].([]any)) == 0 {
		t.Errorf("connection test: %d %s", st, body)
	}
	total := func() float64 {
		_, m, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/entries", nil)
		return m["total"].(float64)
	}
	st, rep, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{"dry_run": true})
	if st != 200 || rep["status"] != "ok" || rep["added"] != float64(19) || total() != 0 {
		t.Errorf("dry run: %d %s; %v entries", st, body, total())
	}
	st, rep, body = e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{})
	if st != 200 || rep["status"] != "ok" || rep["added"] != float64(19) || total() != 19 {
		t.Errorf("sync: %d %s; %v entries", st, body, total())
	}
	if _, m, body := e.do(t, e.adminA, "GET", "/api/v1/ldap-sources/"+id+"/runs", nil); m["total"] != float64(2) {
		t.Errorf("runs: %s", body)
	}
	// Dropping the Rooms base would remove the rooms: the deletion guard
	// stops the run until it is confirmed.
	if st, _, body := e.do(t, e.adminA, "PATCH", "/api/v1/ldap-sources/"+id, map[string]any{"base_dns": []string{"ou=People," + suffix}, "guard_max_deletes": 1}); st != 200 {
		t.Fatalf("patch: %d %s", st, body)
	}
	st, rep, body = e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", nil)
	if st != 200 || rep["status"] != "guarded" || total() != 19 {
		t.Errorf("a sync past the guard: %d %s; %v entries", st, body, total())
	}
	st, rep, body = e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{"confirm": true})
	removed, _ := rep["removed"].(float64)
	if st != 200 || rep["status"] != "ok" || removed < 2 || total() != 19-removed {
		t.Errorf("the confirmed sync: %d %s; %v entries", st, body, total())
	}
	if _, m, body := e.do(t, e.adminB, "GET", "/api/v1/directory/entries", nil); m["total"] != float64(0) {
		t.Errorf("organisation B sees A's synced entries: %s", body)
	}
}
